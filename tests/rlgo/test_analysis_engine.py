"""`rlgo go analysis`: KataGo's JSON analysis protocol, tested as its clients meet it: a
subprocess fed query lines, its stdout read one JSON object a line.

The queries quote KataGo's docs/Analysis_Engine.md (the "foo" handicap example, query_version,
terminate with terminateId/turnNumbers) and KaTrain's katrain/core/engine.py
(KataGoEngine.request_analysis: rules "chinese", priority, includeMovesOwnership, initialPlayer,
overrideSettings {"reportAnalysisWinratesAs": "BLACK", "maxTime": ...}, avoidMoves).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agents.alphago.search.mcts import MCTS
from envs.go import BLACK
from rlgo import __version__
from rlgo.analysis_query import QueryError, parse_query

ENGINE = ("--player", "mcts", "--visits", "16", "--threads", "1", "--seed", "1")
# KataGo's docs/Analysis_Engine.md, "Queries": a 2-stone handicap game, turns 0, 1 and 2
DOC_QUERY = {"id": "foo", "initialStones": [["B", "Q4"], ["B", "C4"]],
             "moves": [["W", "P5"], ["B", "P6"]], "rules": "tromp-taylor", "komi": 7.5,
             "boardXSize": 19, "boardYSize": 19, "analyzeTurns": [0, 1, 2]}
# what KaTrain's request_analysis sends for a 9x9 node after two moves (its fields and values)
KATRAIN_QUERY = {"id": "QUERY:1", "rules": "chinese", "priority": 1, "analyzeTurns": [2],
                 "maxVisits": 16, "komi": 7.5, "boardXSize": 9, "boardYSize": 9,
                 "includeOwnership": True, "includeMovesOwnership": True, "includePolicy": True,
                 "initialStones": [], "initialPlayer": "B",
                 "moves": [["B", "E5"], ["W", "C3"]],
                 "overrideSettings": {"reportAnalysisWinratesAs": "BLACK", "maxTime": 8.0,
                                      "wideRootNoise": 0.04}}


def analysis(lines: list, *args: str, timeout: float = 120) -> list[dict]:
    """Run `rlgo go analysis ARGS` on the query lines (dicts are JSON-encoded, bytes and str
    sent as they are); returns the answers. The engine must end cleanly, without a
    traceback."""
    data = b"".join((json.dumps(x).encode() if isinstance(x, dict) else
                     x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    run = subprocess.run([sys.executable, "-m", "rlgo.cli", "go", "analysis", *(args or ENGINE)],
                         input=data, capture_output=True, timeout=timeout)
    assert run.returncode == 0, run.stderr.decode()
    assert b"Traceback" not in run.stderr
    out = run.stdout.decode()
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]  # every line is one JSON object


def results(answers: list[dict], qid: str) -> list[dict]:
    return [a for a in answers if a.get("id") == qid and "turnNumber" in a]


def check_answer(answer: dict, size: int) -> None:
    """The fields KataGo's doc lists for a response, with rlgo's values in range."""
    assert answer["isDuringSearch"] is False
    infos = answer["moveInfos"]
    assert infos and [m["order"] for m in infos] == list(range(len(infos)))
    columns = "ABCDEFGHJKLMNOPQRST"[:size]
    for m in infos:
        assert m["move"] == "pass" or (m["move"][0] in columns
                                       and 1 <= int(m["move"][1:]) <= size)
        assert m["visits"] >= 1 and 0 <= m["winrate"] <= 1 and 0 <= m["prior"] <= 1
        assert 0 <= m["lcb"] <= 1 and m["pv"][0] == m["move"]
    root = answer["rootInfo"]
    assert root["visits"] == sum(m["visits"] for m in infos)
    assert 0 <= root["winrate"] <= 1 and root["currentPlayer"] in ("B", "W")


def test_doc_example_answers_each_turn_and_the_actions():
    answers = analysis([DOC_QUERY, {"id": "foo", "action": "query_version"},
                        {"id": "cc", "action": "clear_cache"}])
    turns = results(answers, "foo")
    assert [a["turnNumber"] for a in turns] == [0, 1, 2]
    for answer in turns:
        check_answer(answer, 19)
        assert "ownership" not in answer and "policy" not in answer  # not asked for
    # the handicap stones are set up, then W P5 and B P6 are played: White moves at turn 0
    assert [a["rootInfo"]["currentPlayer"] for a in turns] == ["W", "B", "W"]
    assert {"Q4", "C4"}.isdisjoint(m["move"] for a in turns for m in a["moveInfos"])
    assert "P5" not in [m["move"] for m in turns[1]["moveInfos"]]
    # the doc: the query echoed with version and git_hash added; clear_cache echoed
    assert {"id": "foo", "action": "query_version", "version": __version__,
            "git_hash": "<omitted>"} in answers
    assert {"id": "cc", "action": "clear_cache"} in answers


def test_bad_queries_are_error_lines_and_the_engine_keeps_running():
    good = {"id": "ok", "moves": [["B", "E5"]], "rules": "chinese", "boardXSize": 9,
            "boardYSize": 9}
    answers = analysis([
        "{not json", b"\xff\xfe{", "[1, 2]",
        {"moves": [], "rules": "chinese", "boardXSize": 9, "boardYSize": 9},
        {**good, "id": "rect", "boardYSize": 13},
        {**good, "id": "jp", "rules": "stone-scoring"},
        {**good, "id": "ill", "moves": [["B", "E5"], ["W", "E5"]]},
        {**good, "id": "off", "moves": [["B", "J10"]]},
        {**good, "id": "turn", "analyzeTurns": [5]},
        {**good, "id": "komi", "komi": 7.3},
        {"id": "what", "action": "dance"},
        good])
    errors = [a for a in answers if "error" in a]
    assert all(set(e) <= {"error", "field", "id"} for e in errors)
    assert [e.get("field") for e in errors[:3]] == [None, None, None]  # not JSON objects
    by_id = {e.get("id"): e.get("field") for e in errors[3:]}
    assert by_id == {None: "id", "rect": "boardYSize", "jp": "rules", "ill": "moves",
                     "off": "moves", "turn": "analyzeTurns", "komi": "komi", "what": "action"}
    # KaTrain's reader tells a refuted move from other errors by this text
    assert "Illegal move" in next(e["error"] for e in errors if e.get("id") == "ill")
    [answer] = results(answers, "ok")
    check_answer(answer, 9)


def test_katrain_query_ownership_policy_and_warnings():
    answers = analysis([KATRAIN_QUERY])
    warnings = [a for a in answers if "warning" in a]
    assert all(w["id"] == "QUERY:1" for w in warnings)  # KaTrain drops lines without an id
    ignored = " ".join(w["warning"] for w in warnings)
    assert "includeMovesOwnership" in ignored and "wideRootNoise" in ignored
    [answer] = results(answers, "QUERY:1")
    check_answer(answer, 9)
    assert answer["turnNumber"] == 2 and answer["rootInfo"]["currentPlayer"] == "B"
    # ownership is there exactly when rlgo's search gives one (MCTS.ownership)
    assert ("ownership" in answer) == callable(getattr(MCTS, "ownership", None))
    if "ownership" in answer:
        assert len(answer["ownership"]) == 81 and all(-1 <= v <= 1 for v in answer["ownership"])
        # row-major from A9: E5 (Black's stone) is index 4*9+4, C3 (White's) is 6*9+2
        assert answer["ownership"][40] > 0 > answer["ownership"][56]
    policy = answer["policy"]
    assert len(policy) == 82 and policy[40] == -1 and policy[56] == -1
    legal = [p for p in policy if p != -1]
    assert len(legal) == 80 and min(legal) >= 0 and sum(legal) == pytest.approx(1, abs=1e-3)


def test_perspective_of_a_finished_game():
    """After two passes on an empty board White wins by komi: the area count, reported for
    the side reportAnalysisWinratesAs names."""
    ended = {"id": "end", "moves": [["B", "pass"], ["W", "pass"]], "rules": "chinese",
             "komi": 7.5, "boardXSize": 5, "boardYSize": 5}
    answers = analysis([
        {**ended, "id": "black"},
        {**ended, "id": "white", "overrideSettings": {"reportAnalysisWinratesAs": "WHITE"}},
        {**ended, "id": "mover", "overrideSettings": {"reportAnalysisWinratesAs": "SIDETOMOVE"}},
    ])
    roots = {a["id"]: a["rootInfo"] for a in answers if "rootInfo" in a}
    assert roots["black"]["winrate"] == 0 and roots["black"]["scoreLead"] == -7.5
    assert roots["white"]["winrate"] == 1 and roots["white"]["scoreLead"] == 7.5
    assert roots["mover"] == roots["black"]  # Black is to move after W's pass


def test_terminate_stops_a_long_search_and_avoid_binds_the_root():
    long = {"id": "long", "moves": [], "rules": "chinese", "boardXSize": 9, "boardYSize": 9,
            "analyzeTurns": [0, 0], "maxVisits": 10**8}
    avoid = {"id": "avoid", "moves": [], "rules": "chinese", "boardXSize": 9, "boardYSize": 9,
             "maxVisits": 64, "avoidMoves": [{"player": "B", "moves": ["E5", "D4", "pass"],
                                              "untilDepth": 1}]}
    answers = analysis([long, {"id": "t", "action": "terminate", "terminateId": "long"},
                        avoid], timeout=60)
    assert {"id": "t", "action": "terminate", "terminateId": "long"} in answers
    finals = results(answers, "long")
    assert len(finals) == 2 and all(a["isDuringSearch"] is False for a in finals)
    for a in finals:  # stopped early: a partial answer, or noResults when never started
        assert a.get("noResults") is True or a["rootInfo"]["visits"] < 10**8
    [shown] = results(answers, "avoid")
    assert {"E5", "D4", "pass"}.isdisjoint(m["move"] for m in shown["moveInfos"])


def test_reports_during_search_end_with_one_final_answer():
    query = {"id": "live", "moves": [], "rules": "chinese", "boardXSize": 9, "boardYSize": 9,
             "reportDuringSearchEvery": 0.05, "overrideSettings": {"maxTime": 1.0},
             "maxVisits": 10**8}
    answers = results(analysis([query]), "live")
    assert answers[-1]["isDuringSearch"] is False
    assert all(a["isDuringSearch"] for a in answers[:-1]) and len(answers) >= 2
    visits = [a["rootInfo"]["visits"] for a in answers]
    assert visits == sorted(visits)


def test_parse_query_rules_and_handicap_komi():
    stones = [["B", "D4"], ["B", "F6"]]
    base = {"id": "q", "moves": [], "boardXSize": 9, "boardYSize": 9, "komi": 0.5,
            "initialStones": stones, "initialPlayer": "W"}
    chinese = parse_query({**base, "rules": "chinese"}, "BLACK")
    [(turn, position)] = chinese.turns
    assert turn == 0 and position.to_play != BLACK
    assert position.rules.komi == 2.5  # Chinese rules: a point per handicap stone to White
    assert parse_query({**base, "rules": "aga"}, "BLACK").turns[0][1].rules.komi == 1.5
    assert parse_query({**base, "rules": "tromp-taylor"}, "BLACK").turns[0][1].rules.suicide
    aga = parse_query({**base, "rules": "aga"}, "BLACK")
    assert aga.warnings and aga.warnings[0][1] == "rules"  # situational -> positional
    obj = {"ko": "SIMPLE", "scoring": "AREA", "tax": "NONE", "suicide": False,
           "whiteHandicapBonus": "0"}
    assert parse_query({**base, "rules": obj}, "BLACK").turns[0][1].rules.ko == "simple"
    # territory rules are played (their ko and suicide; the count is Japanese) while the
    # search scores by area, which a warning on the rules field says
    japanese = parse_query({**base, "rules": "japanese"}, "BLACK")
    rules = japanese.turns[0][1].rules
    assert (rules.scoring, rules.ko, rules.komi) == ("territory", "simple", 0.5)  # no bonus
    assert [f for _, f in japanese.warnings] == ["rules"]
    territory = parse_query({**base, "rules": {**obj, "scoring": "TERRITORY", "tax": "SEKI"}},
                            "BLACK")
    assert territory.turns[0][1].rules.scoring == "territory"
    for bad in ({**obj, "tax": "ALL"}, {**obj, "tax": "SEKI"}, {**obj, "hasButton": True},
                "stone-scoring", "aga-button", "ing", 7):
        with pytest.raises(QueryError) as err:
            parse_query({**base, "rules": bad}, "BLACK")
        assert err.value.field == "rules"
