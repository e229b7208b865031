"""The rule-set commands (rlgo/gtp/rulesets.py) and the counts that follow them, through
handle_line. The commands' texts are KataGo's docs/GTP_Extensions.md and kgsGtp's, quoted
where a test relies on them."""

from __future__ import annotations

import json

import pytest

from agents.alphago.search.player import SearchLimits
from envs.go import GoError, Rules
from rlgo.gtp import GtpEngine
from rlgo.gtp.rulesets import SHORTHANDS
from rlgo.players import build_player
from tests.rlgo.test_gtp_engine import Scripted, V, ask, fails, make
from tests.rlgo.test_gtp_session import _walled_game

# GTP_Extensions.md, kata-get-rules: "For example: {"hasButton":false,"ko":"POSITIONAL",
# "scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"N-1"}"
DOC_EXAMPLE = ('{"hasButton":false,"ko":"POSITIONAL","scoring":"AREA","suicide":true,'
               '"tax":"NONE","whiteHandicapBonus":"N-1"}')


def _rules(engine) -> dict:
    return json.loads(ask(engine, "kata-get-rules"))


def test_kata_get_rules_reports_the_default_rules():
    assert ask(make(), "kata-get-rules") == (
        '{"hasButton":false,"ko":"POSITIONAL","scoring":"AREA","suicide":false,'
        '"tax":"NONE","whiteHandicapBonus":"0"}')


def test_kata_set_rules_takes_the_docs_json_and_gives_it_back():
    engine = make()
    assert ask(engine, f"kata-set-rules {DOC_EXAMPLE}") == ""
    assert ask(engine, "kata-get-rules") == DOC_EXAMPLE
    assert engine.rules == Rules(9, ko="positional", suicide=True, scoring="area")


# "Some possible shorthand strings are: ... japanese : Equivalent to {"hasButton":false,
# "ko":"SIMPLE","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"0"}"
@pytest.mark.parametrize("name", sorted(set(SHORTHANDS) - {"stone-scoring", "aga-button"}))
def test_every_playable_shorthand(name):
    ko, scoring, suicide, tax, bonus = SHORTHANDS[name]
    engine = make()
    assert ask(engine, f"kata-set-rules {name}") == ""
    got = _rules(engine)
    # SITUATIONAL superko is played (and so reported) as POSITIONAL
    assert got["ko"] == ("POSITIONAL" if ko == "SITUATIONAL" else ko)
    assert (got["scoring"], got["suicide"], got["tax"], got["whiteHandicapBonus"]) == (
        scoring, suicide, tax, bonus)
    assert engine.rules.scoring == scoring.lower() and engine.rules.suicide == suicide


def test_what_rlgo_cannot_play_is_a_clear_error():
    engine = make()
    assert "stone scoring" in fails(engine, "kata-set-rules stone-scoring")
    assert "hasButton" in fails(engine, "kata-set-rules aga-button")
    assert "unknown rules" in fails(engine, "kata-set-rules ing")
    assert "does not parse" in fails(engine, "kata-set-rules {ko:")
    assert "ko must be one of" in fails(engine, 'kata-set-rules {"ko":"SUPER"}')
    assert "suicide must be" in fails(engine, 'kata-set-rules {"suicide":"yes"}')
    assert "unknown rules field" in fails(engine, 'kata-set-rules {"komi":7}')
    assert "area scoring" in fails(engine, 'kata-set-rules {"tax":"SEKI"}')
    assert fails(engine, "kata-set-rules")
    assert _rules(engine)["scoring"] == "AREA"  # nothing changed


def test_kata_set_rule_sets_one_field():
    engine = make()
    ask(engine, "kata-set-rules japanese")
    # "For example, kata-set-rule ko SIMPLE" -- here the other way round
    assert ask(engine, "kata-set-rule ko POSITIONAL") == ""
    assert ask(engine, "kata-set-rule suicide true") == ""
    got = _rules(engine)
    assert (got["ko"], got["scoring"], got["suicide"]) == ("POSITIONAL", "TERRITORY", True)
    assert "unknown rules field" in fails(engine, "kata-set-rule button true")


# KataGo: "kgs-rules RULES ... As specified by kgsGtp docs, RULES should be one of chinese |
# aga | japanese | new_zealand. For this extension, chinese actually maps to chinese-kgs"
@pytest.mark.parametrize(("name", "rules"), [
    ("chinese", ("positional", False, "area")), ("japanese", ("simple", False, "territory")),
    ("aga", ("positional", False, "area")), ("new_zealand", ("positional", True, "area")),
])
def test_kgs_rules(name, rules):
    engine = make()
    ask(engine, "komi 6.5")
    assert ask(engine, f"kgs-rules {name}") == ""
    assert (engine.rules.ko, engine.rules.suicide, engine.rules.scoring) == rules
    assert engine.rules.komi == 6.5  # kgsGtp sends komi on its own


def test_kgs_rules_refuses_other_names():
    engine = make()
    assert "kgs-rules knows" in fails(engine, "kgs-rules tromp-taylor")
    assert fails(engine, "kgs-rules")


def test_rules_change_keeps_the_game():
    engine = make()
    for line in ("play b e5", "play w c3", "play b pass"):
        ask(engine, line)
    ask(engine, "kata-set-rules japanese")
    assert engine.position.move_number == 3 and engine.position.rules.scoring == "territory"
    ask(engine, "boardsize 5")  # a new size keeps the rule set
    assert engine.rules.scoring == "territory"


def test_suicide_only_where_the_rules_allow_it():
    # Black A2 would leave A1-A2 without liberties: a two-stone suicide
    engine = make(size=5)
    for line in ("play b a1", "play w b1", "play w b2", "play w a3"):
        ask(engine, line)
    assert fails(engine, "play b a2") == "illegal move: A2 would be suicide"
    ask(engine, "kata-set-rules tromp-taylor")
    assert ask(engine, "play b a2") == ""
    assert engine.position.prisoners == (0, 2)



def test_final_score_counts_by_the_rule_set():
    engine = make(Scripted(dead=[V("A1", 5)]), size=5)
    ask(engine, "komi 0.5")
    _walled_game(engine)
    assert ask(engine, "final_score") == "B+4.5"  # area: 15 - 10 - 0.5
    ask(engine, "kgs-rules japanese")
    # territory: Black's 10 points and the dead A1, White's 5 points
    assert ask(engine, "final_score") == "B+5.5"
    assert ask(engine, "final_status_list dead") == "A1"


def test_seki_is_listed_and_no_territory():
    engine = make(Scripted(), size=5)
    ask(engine, "komi 0.5")
    for col, color in (("a", "b"), ("b", "w"), ("c", "b")):
        for row in range(1, 6):
            if col != "a" or 2 <= row <= 4:
                ask(engine, f"play {color} {col}{row}")
    assert ask(engine, "final_status_list seki").split("\n") == ["B5 B4 B3 B2 B1",
                                                                 "A4 A3 A2"]
    assert ask(engine, "final_status_list alive") == "C5 C4 C3 C2 C1"
    assert ask(engine, "final_score") == "B+12.5"  # area: 18 - 5 - 0.5
    ask(engine, "kata-set-rules japanese")
    assert ask(engine, "final_score") == "B+9.5"  # Black's D and E columns only


def test_territory_dead_stones_come_from_the_search():
    player = build_player("mcts", 5, seed=3)
    engine = GtpEngine(player, rules=Rules(5, 0.5, scoring="territory"), log=None,
                       limits=SearchLimits(visits=200))
    _walled_game(engine)
    assert ask(engine, "final_status_list dead") == "A1"
    assert ask(engine, "final_score") == "B+5.5"


def test_cli_rules_flag():
    from rlgo.cli import build_parser
    from rlgo.commands.gtp import rules_from_args

    args = build_parser().parse_args(["go", "gtp", "--rules", "japanese", "--ko", "positional"])
    assert rules_from_args(args, 6.5) == Rules(9, 6.5, "positional", False, "territory")
    args = build_parser().parse_args(["go", "gtp", "--rules", "tromp-taylor"])
    assert rules_from_args(args, 7.5) == Rules(9, 7.5, "positional", True, "area")
    with pytest.raises(GoError):
        Rules(9, scoring="japanese")


def test_loadsgf_takes_the_records_rules_and_printsgf_writes_them(tmp_path):
    path = tmp_path / "jp.sgf"
    path.write_text("(;GM[1]FF[4]SZ[9]KM[6.5]RU[Japanese];B[ee];W[cc])")
    engine = make()
    assert ask(engine, f"loadsgf {path}") == "black"
    got = _rules(engine)
    assert (got["scoring"], got["ko"], got["tax"]) == ("TERRITORY", "SIMPLE", "SEKI")
    assert "RU[Japanese]" in ask(engine, "printsgf")
    ask(engine, "kata-set-rules new-zealand")
    assert "RU[Tromp-Taylor]" in ask(engine, "printsgf")  # NZ's rules, as rlgo plays them
    path.write_text("(;GM[1]FF[4]SZ[9]KM[7]RU[NZ];B[ee])")
    ask(engine, f"loadsgf {path}")
    assert (engine.rules.scoring, engine.rules.suicide) == ("area", True)
