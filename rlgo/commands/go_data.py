"""`rlgo go gen-data`, `rlgo go import-tygem`, `rlgo go dataset` and `rlgo go train-sl`: teacher
games or TYGEM's 9-dan games as SGF, SGF collections as numpy shards, and the SL policy network
trained on them.

    rlgo go gen-data --teacher "gnugo --mode gtp --level 10" --games 2000 --size 9 --out DIR
    rlgo go gen-data --teacher "/usr/games/gnugo --mode gtp" --levels 5,6,6,7,8 --games 2000 \\
        --out runs/alphago/teacher9 --address auto        # on a Ray cluster
    rlgo go import-tygem TYGEM/Kifu/2006-0*.zip --index TYGEM/index/Kifu2006.zip --out DIR
    rlgo go dataset runs/alphago/teacher9 --out runs/alphago/data9 --planes alphago
    rlgo go train-sl --data runs/alphago/data9 --run-dir runs/alphago/sl9 \\
        --config configs/go/sl_9x9.yaml [--set epochs=12] [--resume] [--device auto]

gen-data plays games on the self-play runtime (embedded Ray on all cores by default) and is
resumable: run it again with the same --out and it plays only the games still missing.
Bad options or configs, an unreachable cluster, an engine that cannot start, a missing
dataset or a run directory that cannot be used raise a UserError: one line on stderr and exit
status 2 (rlgo.cli.main).
`register(go_subparsers)` adds the four commands to the rlgo CLI.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..config import ConfigError
from . import (
    add_komi_option,
    add_run_options,
    command_line,
    positive_int,
    print_progress,
    run_config,
)
from .placement import add_placement_options, placed

GEN_HELP = "teacher games: an external GTP engine plays both colours from varied openings (SGF)"
DATASET_HELP = "SGF games -> compressed numpy shards (train/val split by game) for training"
TYGEM_HELP = ("TYGEM's 19x19 9-dan games (github.com/yenw/computer-go-dataset) -> SGF "
              "collections for `rlgo go dataset`")
SL_HELP = "train the SL policy network on a dataset (top-1 accuracy on held-out games)"


def _gen_data(args: argparse.Namespace) -> int:
    from selfplay.go.games import existing_games
    from selfplay.go.teacher import (
        TEACHER_RUNTIME,
        TeacherSettings,
        check_teacher,
        parse_levels,
        parse_range,
        run_generation,
    )

    try:
        settings = TeacherSettings(command=args.teacher, size=args.size, komi=args.komi,
                                   levels=parse_levels(args.levels),
                                   opening_moves=parse_range(args.opening_moves),
                                   max_moves=args.max_moves, seed=args.seed)
    except ValueError as err:  # the flags as the teacher settings read them
        raise ConfigError(str(err)) from None
    os.makedirs(args.out, exist_ok=True)
    if existing_games(Path(args.out)) >= args.games:
        print(f"{args.out} already holds {args.games} games; nothing to do")
        return 0
    check_teacher(settings)  # a command that cannot start fails here, in one line
    summary = run_generation(settings, args.out, args.games, placed(TEACHER_RUNTIME, args),
                             progress=None if args.quiet else print_progress,
                             progress_every=args.progress_every)
    print(f"gen-data done: {summary['games']} games in {summary['out']} ({summary['new_games']} "
          f"new, {summary['games_per_s']:.2f} games/s, {summary['seconds'] / 60:.1f} min)",
          flush=True)
    return 0


def _dataset(args: argparse.Namespace) -> int:
    from selfplay.go.dataset import build_dataset

    summary = build_dataset(args.sgf_dir, args.out, planes=args.planes, size=args.size,
                            val_fraction=args.val_fraction, workers=args.workers or None,
                            progress=None if args.quiet else print_progress)
    counts = summary["counts"]
    print(f"dataset done: {counts['train_positions']} train / {counts['val_positions']} val "
          f"positions from {counts['train_games']} / {counts['val_games']} games "
          f"({counts['skipped_files']} files skipped, {counts['other_size_games']} of another "
          f"size); {args.out}", flush=True)
    return 0


def _import_tygem(args: argparse.Namespace) -> int:
    from selfplay.go.tygem import convert, read_index

    index = read_index(args.index) if args.index else None
    counts = convert(args.kifu, args.out, index=index, max_games=args.max_games,
                     games_per_file=args.games_per_file,
                     progress=None if args.quiet else print_progress)
    print(f"import-tygem done: {counts['games']} games in {counts['files']} SGF files "
          f"({counts['skipped']} lines skipped"
          + (f", {len(index)} games in the index" if index is not None else ", no index: "
             "no results or players") + f"); {args.out}", flush=True)
    return 0


def _train_sl(args: argparse.Namespace) -> int:
    from selfplay.go.train_sl import SLConfig, train_sl

    config = run_config(SLConfig, args)
    summary = train_sl(config, args.data, args.run_dir, resume=args.resume,
                       command=command_line(args), progress=None if args.quiet else print_progress)
    best = summary["best_val_top1"]
    print(f"train-sl done: best held-out top-1 {best:.4f} " if best is not None else
          "train-sl done: no validation split; ", end="")
    print(f"({summary['parameters']:,} parameters, {summary['seconds'] / 60:.1f} min); "
          f"best net {summary['policy']}", flush=True)
    return 0


def register(go_subparsers) -> None:
    """Add `gen-data`, `dataset`, `import-tygem` and `train-sl` to the `rlgo go` subcommands."""
    gen = go_subparsers.add_parser("gen-data", help=GEN_HELP, description=GEN_HELP)
    gen.add_argument("--teacher", default="gnugo --mode gtp", metavar="COMMAND",
                     help="the GTP engine's command line (default: gnugo --mode gtp)")
    gen.add_argument("--levels", default="", metavar="SPEC",
                     help="per game, append --level L with L drawn from SPEC: 6-10, or "
                          "8,10,10 (repeats weight a level); default: the command's level")
    gen.add_argument("--games", type=positive_int, required=True, metavar="N",
                     help="games wanted in --out in total (existing ones count)")
    gen.add_argument("--size", type=positive_int, default=9, help="board size (default 9)")
    add_komi_option(gen)
    gen.add_argument("--out", required=True, metavar="DIR", help="where game-NNNNNN.sgf go")
    gen.add_argument("--opening-moves", default="1-4", metavar="LOW-HIGH",
                     help="random first moves before the teacher plays, drawn per game from "
                          "LOW-HIGH (default 1-4; 0 starts from the empty board)")
    gen.add_argument("--max-moves", type=int, default=0, metavar="N",
                     help="end a game after N moves and score it (default 3*size*size)")
    add_placement_options(gen, "parallel games (default: one per CPU)")
    gen.add_argument("--seed", type=int, default=0, help="root seed of openings and levels")
    gen.add_argument("--progress-every", type=float, default=10.0, metavar="S",
                     help="seconds between progress lines (default 10)")
    gen.add_argument("--quiet", action="store_true", help="no progress lines")
    gen.set_defaults(func=_gen_data)

    data = go_subparsers.add_parser("dataset", help=DATASET_HELP, description=DATASET_HELP)
    data.add_argument("sgf_dir", help="a directory of .sgf files (searched recursively)")
    data.add_argument("--out", required=True, metavar="DIR", help="the dataset directory")
    data.add_argument("--planes", choices=("alphago", "simple"), default="alphago",
                      help="input feature set (default alphago: 48 planes)")
    data.add_argument("--size", type=positive_int, default=9,
                      help="keep games of this board size (default 9)")
    data.add_argument("--val-fraction", type=float, default=0.05, metavar="F",
                      help="share of games held out for validation (default 0.05)")
    data.add_argument("--workers", type=positive_int, default=None, metavar="N",
                      help="processes (default: all cores)")
    data.add_argument("--quiet", action="store_true", help="no progress lines")
    data.set_defaults(func=_dataset)

    tygem = go_subparsers.add_parser("import-tygem", help=TYGEM_HELP, description=TYGEM_HELP)
    tygem.add_argument("kifu", nargs="+", metavar="KIFU.zip",
                       help="monthly kifu zips (TYGEM/Kifu/YYYY-MM.zip)")
    tygem.add_argument("--index", nargs="*", default=[], metavar="INDEX.zip",
                       help="yearly index zips (TYGEM/index/KifuYYYY.zip): results, players, "
                            "dates")
    tygem.add_argument("--out", required=True, metavar="DIR",
                       help="where OUT/MONTH/games-NNNNN.sgf go")
    tygem.add_argument("--max-games", type=int, default=0, metavar="N",
                       help="stop after N games (default: all)")
    tygem.add_argument("--games-per-file", type=positive_int, default=200, metavar="N",
                       help="games per SGF collection; the dataset holds out whole files "
                            "(default 200)")
    tygem.add_argument("--quiet", action="store_true", help="no progress lines")
    tygem.set_defaults(func=_import_tygem)

    sl = go_subparsers.add_parser("train-sl", help=SL_HELP, description=SL_HELP)
    sl.add_argument("--data", required=True, metavar="DIR", help="a dataset (rlgo go dataset)")
    add_run_options(sl, "checkpoints, metrics and the best net (RUN/policy.pt)",
                    "configs/go/sl_9x9.yaml",
                    device_help="where to train (default from the config: auto)")
    sl.set_defaults(func=_train_sl)
