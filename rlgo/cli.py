"""The `rlgo` command line: `rlgo go ...`, `rlgo atari ...`, `rlgo bench ...`.

Each subcommand is a small function that loads its config, builds what it needs and runs it.
Errors a user can cause (bad config, missing file, bad move or record: any envs.errors.UserError,
or an OSError) end here, in `main`, as one line on stderr and exit status 2; commands let them
rise. A usage error (an unknown option, a bad flag value) is one line and exit 2 too (Parser).
A traceback means a bug in rlgo.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import NoReturn

from envs.errors import UserError, quoted
from envs.go.errors import GoError

from . import __version__
from .commands import analysis, gate, go_data, go_rl, go_rollout, gtp, match, play
from .commands import atari as atari_commands
from .commands import selfplay as selfplay_commands
from .config import load_config, shipped_configs


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line error: "rlgo go show: error: ... (see --help)", exit 2.

    argparse prints the whole usage block before its error; for a command with twenty options
    that hides the one line that matters. Subparsers are made of this class too (argparse
    passes its own type down), so every level answers the same way; --help is untouched.
    """

    def parse_known_args(self, args=None, namespace=None):
        """A command (a parser without subcommands) names its own unknown options, so the
        hint points at its --help rather than the top-level one."""
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {line} (see {self.prog} --help)\n")


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML config: a file, or a shipped "
                        f"config ({', '.join(shipped_configs('bench'))})")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")


def _cmd_go_show(args: argparse.Namespace) -> int:
    from envs.errors import quoted
    from envs.go.sgf import position_from_record
    from envs.go.sgf_files import load_sgf_file

    if args.game < 1:
        raise GoError(f"--game must be 1 or more, got {args.game}")
    record = load_sgf_file(args.sgf, args.game)  # a regular file of sane size; errors quote it
    if record.games_in_file > 1:  # say so: a collection must not silently show one game
        print(f"{quoted(args.sgf, 300)} holds {record.games_in_file} games; showing game "
              f"{args.game} (--game N for another)", file=sys.stderr)
    if args.move is not None:
        if args.move < 0:
            raise GoError(f"--move must be 0 or more, got {args.move}")
        record = dataclasses.replace(record, moves=record.moves[: args.move])
    position = position_from_record(record)
    print(position)
    result = f"; recorded result {quoted(record.result, 40)}" if record.result else ""
    print(f"move {position.move_number}; Tromp-Taylor area result {position.result()}{result}")
    return 0


def _cmd_bench_go(args: argparse.Namespace) -> int:
    from .bench import go

    go.run(load_config(go.GoBenchConfig, args.config, args.overrides), args.json)
    return 0


def _cmd_bench_mcts(args: argparse.Namespace) -> int:
    from .bench import mcts

    mcts.run(load_config(mcts.MctsBenchConfig, args.config, args.overrides), args.json)
    return 0


def _cmd_bench_atari(args: argparse.Namespace) -> int:
    from .bench import atari

    atari.run(load_config(atari.AtariBenchConfig, args.config, args.overrides), args.json)
    return 0


def _cmd_bench_selfplay(args: argparse.Namespace) -> int:
    from selfplay.go import bench

    bench.run(load_config(bench.SelfPlayBenchConfig, args.config, args.overrides), args.json)
    return 0


def _cmd_bench_replay(args: argparse.Namespace) -> int:
    from selfplay.replay import bench

    from .bench.report import emit

    figures = bench.run()
    units = {"_us": "µs per call", "_per_s": "records/s", "_mb": "MB"}
    rows = [(key, float(value), next((u for s, u in units.items() if key.endswith(s)), ""))
            for key, value in figures.items() if key not in ("capacity", "batch_size")]
    emit(f"rlgo bench replay (prioritized, {figures['capacity']:,} records, batch "
         f"{figures['batch_size']})", rows, args.json)
    return 0


def _cmd_atari_games(args: argparse.Namespace) -> int:
    from envs.atari import bundled_games

    for name in bundled_games():
        print(name)
    return 0


def _command(subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help opens with the line `rlgo GROUP --help` lists it by."""
    return subparsers.add_parser(name, help=help_text, description=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rlgo", description="A DQN Atari agent and an AlphaGo-style Go engine.")
    parser.add_argument("--version", action="version", version=f"rlgo {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="{go,atari,bench}", required=True)

    go = groups.add_parser("go", help="the Go engine").add_subparsers(
        dest="command", metavar="COMMAND", required=True)
    show = _command(go, "show", "print the board of an SGF game record and its Tromp-Taylor "
                    "area score")
    show.add_argument("sgf", help="an .sgf file")
    show.add_argument("--game", type=int, default=1, metavar="N",
                      help="which game of a file holding several (a collection), from 1")
    show.add_argument("--move", type=int, default=None,
                      help="show the position after this many moves (default: the end)")
    show.set_defaults(func=_cmd_go_show)
    play.register(go)
    gtp.register(go)
    analysis.register(go)
    match.register(go)
    gate.register(go)
    selfplay_commands.register(go)
    go_data.register(go)
    go_rl.register(go)
    go_rollout.register(go)

    atari = groups.add_parser("atari", help="Atari agents").add_subparsers(
        dest="command", metavar="COMMAND", required=True)
    games = _command(atari, "games", "list the ALE games bundled with ale-py, one a line: the "
                     "names `rlgo atari train --env` takes")
    games.set_defaults(func=_cmd_atari_games)
    atari_commands.register(atari)

    bench = groups.add_parser("bench", help="benchmarks (print a table, optionally write JSON)")
    bench = bench.add_subparsers(dest="command", metavar="COMMAND", required=True)
    bench_go = _command(bench, "go", "playouts/s, play()/s, legal_moves()/s, cold start")
    bench_go.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    _add_config_args(bench_go)
    bench_go.set_defaults(func=_cmd_bench_go)
    bench_mcts = _command(bench, "mcts", "simulations/s of the network-free engine")
    bench_mcts.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    _add_config_args(bench_mcts)
    bench_mcts.set_defaults(func=_cmd_bench_mcts)
    bench_selfplay = _command(bench, "selfplay", "self-play games/s with 1 and 2 actors on "
                              "embedded Ray, and on a simulated two-node cluster")
    bench_selfplay.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    _add_config_args(bench_selfplay)
    bench_selfplay.set_defaults(func=_cmd_bench_selfplay)
    bench_replay = _command(bench, "replay", "replay sample/update/add speed at 1M records")
    bench_replay.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench_replay.set_defaults(func=_cmd_bench_replay)
    bench_atari = _command(bench, "atari", "Atari env steps/s, learner updates/s, agent "
                           "steps/s (one process, Ape-X) vs a plain DQN loop")
    bench_atari.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    _add_config_args(bench_atari)
    bench_atari.set_defaults(func=_cmd_bench_atari)
    return parser


def error_text(err: Exception) -> str:
    """What the error line says: an OSError as "'FILE': No such file or directory", not
    Python's "[Errno 2] No such file or directory: 'FILE'"."""
    if not isinstance(err, OSError) or not err.strerror:
        return str(err)
    names = [quoted(name if isinstance(name, str | bytes) else str(name), 300)
             for name in (err.filename, err.filename2) if name is not None]
    return ": ".join([" -> ".join(names), err.strerror] if names else [err.strerror])


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, after Parser's line)
        return int(exit_.code or 0)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # commands record what was typed
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. `rlgo atari games | head`: the reader left, nothing to say
        sys.stderr.close()
        return 0
    except (UserError, OSError) as err:  # the one place a user's error becomes one line
        print(f"rlgo: error: {error_text(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rlgo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
