"""The GUI's game controller without a window: moves, illegal moves, undo, passes and scoring,
resignation, handicap, SGF files, new games, and the engine's background thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from agents.alphago.search.player import RandomPlayer, SearchLimits
from envs.go import BLACK, PASS, RESIGN, WHITE, GoError, Position, Rules, chain_at, from_gtp
from rlgo.gui.controller import OVER, PLAY, SCORING, GameController
from rlgo.gui.game import ILLEGAL_MESSAGES, GameSettings
from rlgo.players import build_player

from .helpers import ScriptedPlayer


def V(vertex: str) -> int:  # noqa: N802
    return from_gtp(vertex, 9)

# Black owns columns A-E, White F-J; the white stone on C7 is dead in Black's area.
# Black's area 45 (A-E with C7 removed), White's 36: B+1.5 with komi 7.5; W+35.5 with C7 alive.
DEAD_C7 = """
    . . . . X O . . .
    . . . . X O . . .
    . . O . X O . . .
    . . . . X O . . .
    . . . . X O . . .
    . . . . X O . . .
    . . . . X O . . .
    . . . . X O . . .
    . . . . X O . . .
"""


def game_with(player, tmp_path, **settings) -> GameController:
    return GameController(player, GameSettings(**settings), SearchLimits(visits=50),
                          games_dir=tmp_path / "games")


def test_human_move_then_engine_reply(tmp_path):
    game = game_with(RandomPlayer(seed=3), tmp_path)
    assert game.human_to_move and game.phase == PLAY
    assert game.click(V("E5"))
    assert game.position.board[V("E5")] == BLACK
    assert not game.human_to_move
    game.wait_engine()
    assert game.position.move_number == 2
    assert game.position.last_color == WHITE and game.human_to_move
    assert "engine played" in game.message


@pytest.mark.parametrize("reason", ["occupied", "suicide", "ko"])
def test_illegal_moves_say_why(tmp_path, reason):
    game = game_with(ScriptedPlayer(), tmp_path)
    if reason == "occupied":
        game.click(V("E5"))
        game.wait_engine()  # the scripted engine passes
        point = V("E5")
    elif reason == "suicide":  # A9 is surrounded by White
        rows = [". O . . . . . . .", "O . . . . . . . ."] + [". . . . . . . . ."] * 7
        game.set_position(Position.from_ascii("\n".join(rows), komi=7.5))
        point = V("A9")
    else:  # White just took the ko at D5 by capturing on E5: Black may not retake at once
        start = Position.from_ascii("""
            . . . . . . . . .
            . . . . . . . . .
            . . . . . . . . .
            . . . X O . . . .
            . . X . X O . . .
            . . . X O . . . .
            . . . . . . . . .
            . . . . . . . . .
            . . . . . . . . .
        """, komi=7.5, to_play=WHITE)
        game.set_position(start.play(V("D5")))
        point = V("E5")
    before = game.position
    assert not game.click(point)
    assert game.position is before
    assert game.message == ILLEGAL_MESSAGES[reason] and game.message_kind == "error"
    assert not game.is_legal(point)


def test_superko_and_unknown_reasons_have_messages():
    assert "repeat" in ILLEGAL_MESSAGES["superko"]


def test_undo_takes_back_the_engine_reply(tmp_path):
    game = game_with(RandomPlayer(seed=1), tmp_path)
    assert not game.undo() and game.message_kind == "error"  # nothing yet
    game.click(V("C3"))
    game.wait_engine()
    game.click(V("G7"))
    game.wait_engine()
    assert game.position.move_number == 4
    assert game.undo()
    assert game.position.move_number == 2 and game.human_to_move
    assert game.position.board[V("G7")] == 0 and game.position.board[V("C3")] == BLACK
    assert game.undo()
    assert game.position.move_number == 0 and not game.position.board.any()


def test_undo_while_the_engine_thinks_drops_its_answer(tmp_path):
    gate = threading.Event()
    player = ScriptedPlayer(moves=[V("G7")], gate=gate)
    game = game_with(player, tmp_path)
    game.click(V("C3"))
    game.poll()
    assert game.thinking
    assert game.undo()
    assert not game.thinking and game.position.move_number == 0
    gate.set()
    game.poll()
    assert game.position.move_number == 0 and not game.position.board.any()


def test_undo_when_the_engine_moved_first_keeps_its_move(tmp_path):
    game = game_with(ScriptedPlayer(moves=[V("E5")]), tmp_path, human=WHITE)
    game.wait_engine()
    assert game.position.board[V("E5")] == BLACK and game.human_to_move
    assert not game.undo()


def test_pass_pass_then_dead_stones_and_score(tmp_path):
    player = build_player("mcts", 9, seed=0, threads=1)
    game = game_with(player, tmp_path)
    game.set_position(Position.from_ascii(DEAD_C7, komi=7.5).play(PASS, WHITE))
    assert game.human_to_move
    assert game.pass_move()
    assert game.phase == SCORING and game.busy
    game.wait_engine()
    assert game.dead == {V("C7")}  # the engine's proposal
    assert game.score() == (45, 36, 1.5)
    assert game.scored_position().ownership()[V("C7")] == BLACK
    assert game.click(V("C7"))  # the human disagrees: alive
    assert game.dead == set() and game.scored_position().result() == "W+35.5"
    assert game.toggle_dead(V("F5"))  # a whole chain at once
    assert game.dead == set(chain_at(game.position, V("F5"))) and len(game.dead) == 9
    game.toggle_dead(V("F5"))
    game.toggle_dead(V("C7"))
    assert game.accept_score()
    assert game.phase == OVER and game.result == "B+1.5"
    assert game.message_kind == "result" and "You win" in game.message
    assert not game.click(V("A1"))


def test_engine_pass_after_human_pass_ends_the_game(tmp_path):
    game = game_with(ScriptedPlayer(dead=[]), tmp_path)
    game.pass_move()
    game.wait_engine()
    assert game.phase == SCORING and game.dead == set()
    assert game.undo()  # back before both passes
    assert game.phase == PLAY and game.position.move_number == 0


def test_resignations(tmp_path):
    game = game_with(RandomPlayer(), tmp_path)
    assert game.resign()
    assert game.phase == OVER and game.result == "W+R"
    assert game.undo() and game.phase == PLAY and game.position.move_number == 0
    game = game_with(ScriptedPlayer(moves=[RESIGN]), tmp_path)
    game.click(V("E5"))
    game.wait_engine()
    assert game.phase == OVER and game.result == "B+R" and "resigns" in game.message


def test_handicap_engine_white_moves_first(tmp_path):
    game = game_with(ScriptedPlayer(moves=[V("E5")], winrate=0.7), tmp_path, handicap=4,
                     komi=0.5)
    assert np.count_nonzero(game.position.board == BLACK) == 4
    assert game.position.to_play == WHITE and not game.human_to_move
    game.wait_engine()
    assert game.position.board[V("E5")] == WHITE and game.human_to_move
    assert game.black_winrate() == pytest.approx(0.3)  # the engine is White
    assert game.winrate_history == [(0, pytest.approx(0.3))]


def test_new_game_settings(tmp_path):
    game = game_with(ScriptedPlayer(moves=[from_gtp("K10", 19)]), tmp_path)
    assert game.new_game(GameSettings(size=19, human=WHITE, komi=6.5))
    assert game.position.rules == Rules(size=19, komi=6.5)
    game.wait_engine()
    assert game.position.board[from_gtp("K10", 19)] == BLACK
    assert not game.new_game(GameSettings(size=9, handicap=1))
    assert game.message_kind == "error" and game.position.rules.size == 19
    with pytest.raises(GoError):
        game_with(ScriptedPlayer(), tmp_path, size=5, handicap=2)


def test_save_and_load_round_trip(tmp_path):
    game = game_with(RandomPlayer(seed=5), tmp_path, handicap=2, komi=0.5)
    for vertex in ("C3", "G7", "E5"):
        game.wait_engine()
        if not game.click(V(vertex)):
            game.click(int(np.flatnonzero(game.position.legal_moves()[:-1])[0]))
    game.wait_engine()
    saved = game.position
    path = game.save_sgf()
    assert path is not None and path.parent == tmp_path / "games" and path.exists()
    assert str(path) in game.message
    game.new_game(GameSettings())
    assert game.load_sgf()  # the latest file
    assert game.phase == PLAY and game.human_to_move
    assert np.array_equal(game.position.board, saved.board)
    assert game.position.moves() == saved.moves()
    assert game.settings.handicap == 2 and game.settings.komi == 0.5
    assert game.undo() and game.position.move_number == saved.move_number - 2


def test_load_resigned_game_and_errors(tmp_path):
    game = game_with(RandomPlayer(), tmp_path)
    assert not game.load_sgf()  # nothing saved yet
    assert "No saved games" in game.message
    game.click(V("E5"))
    game.wait_engine()
    game.resign()
    path = game.save_sgf(tmp_path / "resigned.sgf")
    game.new_game()
    assert game.load_sgf(path)
    assert game.phase == OVER and game.result == "W+R"
    (tmp_path / "bad.sgf").write_text("(;GM[1]SZ[9];B[ee];W[ee])")
    assert not game.load_sgf(tmp_path / "bad.sgf")
    assert game.message_kind == "error" and "bad.sgf" in game.message
    assert game.result == "W+R"  # the game on the board is untouched


def test_a_collection_loads_its_first_game_and_says_so(tmp_path):
    game = game_with(RandomPlayer(), tmp_path)
    (tmp_path / "two.sgf").write_text("(;GM[1]SZ[9]KM[7.5];B[ee];W[cc])(;GM[1]SZ[9];B[dd])")
    assert game.load_sgf(tmp_path / "two.sgf")
    assert game.position.move_number == 2
    assert "the first of its 2 games" in game.message


def test_engine_errors_are_messages(tmp_path):
    game = game_with(ScriptedPlayer(error=RuntimeError("engine crashed")), tmp_path)
    game.click(V("E5"))
    game.wait_engine()
    assert game.engine_failed and "engine crashed" in game.message
    game.poll()
    assert not game.busy  # it is not asked again by itself
    assert game.undo() and not game.engine_failed


def test_time_per_move(tmp_path):
    game = game_with(RandomPlayer(), tmp_path)
    game.set_seconds(5)
    assert game.limits.seconds == 5.0
    game.cycle_seconds(1)
    assert game.limits.seconds == 10.0
    game.cycle_seconds(-1)
    assert game.limits.seconds == 5.0


def test_analysis_candidates_for_the_human(tmp_path):
    player = build_player("mcts", 9, seed=0, threads=1)
    game = GameController(player, GameSettings(), SearchLimits(visits=30),
                          analysis_seconds=0.6)
    game.toggle_analysis()
    game.poll()
    game._analysis.thread.join(5)  # analysis stops by itself after analysis_seconds
    candidates = game.candidates()
    assert candidates and all(0 <= c.winrate <= 1 for c in candidates)
    game.click(candidates[0].move)
    assert game.candidates() == []  # for the old position: not shown
    game.toggle_analysis()
    game.wait_engine()
    game.close()
