"""`rlgo go gate`: two play nets (or a play net and a bootstrap engine) in the self-play gate.

    rlgo go gate runs/sp9/networks/v0012.pt runs/sp9/networks/v0001.pt --games 100
    rlgo go gate agents/alphago/weights/play_9x9.pt sl --games 40 --visits 128

The match the self-play loop gates candidates with (selfplay/go/gate.py), at fixed visits, in
lockstep in this process: A and B alternate colours (A is Black first), both search alike
(no noise; moves drawn by visit count for the first `--temperature-moves` moves, so games
differ), every game is played out and scored by area. B may be `sl` or `rollouts`, the loop's
bootstrap engines. Prints A's score with its 95% interval and the Elo difference; `--json`
writes them, `--sgf-dir` the games.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from envs.atomic import atomic_write_bytes
from envs.go import BLACK, DEFAULT_KOMI

from . import add_device_option, network_device, positive_int, print_progress

HELP = "play two self-play networks against each other (the loop's gate) and print the score"
BOOTSTRAP_NAMES = ("sl", "rollouts")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="a play net file (RUN/networks/vNNNN.pt)")
    parser.add_argument("b", metavar="B",
                        help="a play net file, or 'sl' / 'rollouts' (the loop's bootstraps)")
    parser.add_argument("--games", type=positive_int, default=100, metavar="N",
                        help="games (default 100; colours alternate)")
    parser.add_argument("--visits", type=positive_int, default=64, metavar="N",
                        help="simulations per move (default 64, the loop's)")
    parser.add_argument("--lambda", dest="mix", type=float, default=0.0, metavar="L",
                        help="rollouts' share of a leaf's value for both nets (default 0)")
    parser.add_argument("--komi", type=float, default=DEFAULT_KOMI,
                        help=f"komi (default {DEFAULT_KOMI:g})")
    parser.add_argument("--temperature-moves", type=int, default=8, metavar="N",
                        help="opening moves drawn by visit count (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--sgf-dir", metavar="DIR", help="write the games here as SGF")
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    add_device_option(parser, "where the networks run (default cpu)", default="cpu")
    parser.add_argument("--quiet", action="store_true", help="no per-game lines on stderr")


def run(args: argparse.Namespace) -> int:
    from agents.alphago.evaluators.playnet import play_evaluator
    from agents.alphago.nets.networks import load_network
    from selfplay.go.actor import GoActorSettings, make_evaluator
    from selfplay.go.games import save_game
    from selfplay.go.gate import gate_match
    from selfplay.go.ladder import GateRule
    from selfplay.stats import WinRate

    device = network_device(args)
    net_a = load_network(args.a, "play")
    size = net_a.spec.size
    settings = GoActorSettings(size=size, komi=args.komi, visits=args.visits, mix=args.mix,
                               temperature_moves=args.temperature_moves, seed=args.seed,
                               bootstrap=args.b if args.b in BOOTSTRAP_NAMES else "sl")
    a = play_evaluator(net_a, mix=args.mix, seed=args.seed, device=device)
    if args.b in BOOTSTRAP_NAMES:
        b = make_evaluator(settings, None, args.seed + 1)
    else:
        b = play_evaluator(load_network(args.b, "play", size), mix=args.mix, seed=args.seed + 1,
                           device=device)
    rule = GateRule(games=args.games, sprt=False)
    result = gate_match(a, b, settings, rule, seed=args.seed,
                        progress=None if args.quiet else print_progress)
    decided = [g.winner() for g in result.records]
    rate = WinRate(wins=sum(w == g.tag for w, g in zip(decided, result.records, strict=True)),
                   draws=sum(w is None for w in decided),
                   losses=sum(w is not None and w != g.tag
                              for w, g in zip(decided, result.records, strict=True)))
    print(f"A {args.a} vs B {args.b}: {result.games} games at {args.visits} visits, "
          f"lambda {args.mix:g}: A scores {rate.describe()}", flush=True)
    if args.sgf_dir:
        for i, game in enumerate(result.records, 1):
            save_game(Path(args.sgf_dir), i, game.rules, game.position.moves(),
                      game.position.result(), "rlgo-gate",
                      f"rlgo go gate: A {args.a} as {'Black' if game.tag == BLACK else 'White'}",
                      game.move_comments())
    if args.json:
        low, high = rate.interval
        elo_low, elo_high = rate.elo_interval
        atomic_write_bytes(Path(args.json), (json.dumps({
            "a": args.a, "b": args.b, "games": result.games, "visits": args.visits,
            "lambda": args.mix, "komi": args.komi, **dataclasses.asdict(rate),
            "score": rate.rate, "interval": [low, high], "elo": rate.elo,
            "elo_interval": [elo_low, elo_high]}, indent=2) + "\n").encode())
    return 0


def register(go_subparsers) -> argparse.ArgumentParser:
    """Add `gate` to the `rlgo go` subcommands."""
    parser = go_subparsers.add_parser("gate", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
