"""The GTP rule-set commands: KGS's `kgs-rules` and KataGo's `kata-set-rules`,
`kata-set-rule` and `kata-get-rules` (docs/GTP_Extensions.md). A mixin of GtpEngine, which
holds `rules`, `position` and `_log`.

KataGo's rules are a JSON object: ko SIMPLE|POSITIONAL|SITUATIONAL, scoring AREA|TERRITORY,
tax NONE|SEKI|ALL, suicide, hasButton, whiteHandicapBonus 0|N|N-1; or a shorthand from its
table (SHORTHANDS, KataGo's own words). rlgo maps them onto Rules (scoring, ko, suicide):
  - SITUATIONAL superko is played as positional superko (they differ only in rare cycles
    with a pass), said in the log;
  - tax SEKI is what rlgo's territory count does (scoring.py: no territory in seki), so
    TERRITORY with tax NONE is counted as SEKI (logged); AREA with a tax, tax ALL (stone
    scoring) and hasButton true are refused with a GTP error naming the field;
  - whiteHandicapBonus is kept for kata-get-rules, and logged when not 0: the komi the
    controller sends is what rlgo counts (KataGo adds N or N-1 points for White itself).
A rule set changes no stone: the game is kept (replayed under the new rules, as komi does).
KataGo sends no komi with its rules and nor does kgsGtp with kgs-rules: komi stays as set.
"""

from __future__ import annotations

import json

from envs.go import Rules

from . import game
from .protocol import GtpFailure, expect

# KataGo's kata-set-rules shorthands, field for field as its GTP_Extensions.md lists them
# (hasButton false for all but aga-button).
SHORTHANDS = {
    "tromp-taylor": ("POSITIONAL", "AREA", True, "NONE", "0"),
    "chinese": ("SIMPLE", "AREA", False, "NONE", "N"),
    "chinese-ogs": ("POSITIONAL", "AREA", False, "NONE", "N"),
    "chinese-kgs": ("POSITIONAL", "AREA", False, "NONE", "N"),
    "japanese": ("SIMPLE", "TERRITORY", False, "SEKI", "0"),
    "korean": ("SIMPLE", "TERRITORY", False, "SEKI", "0"),
    "stone-scoring": ("SIMPLE", "AREA", False, "ALL", "0"),
    "aga": ("SITUATIONAL", "AREA", False, "NONE", "N-1"),
    "bga": ("SITUATIONAL", "AREA", False, "NONE", "N-1"),
    "new-zealand": ("SITUATIONAL", "AREA", True, "NONE", "0"),
    "aga-button": ("SITUATIONAL", "AREA", False, "NONE", "N-1"),
}
# kgsGtp's four names (KataGo: "chinese actually maps to chinese-kgs")
KGS_RULES = {"chinese": "chinese-kgs", "japanese": "japanese", "aga": "aga",
             "new_zealand": "new-zealand"}
FIELDS = ("hasButton", "ko", "scoring", "suicide", "tax", "whiteHandicapBonus")
IGNORED_FIELDS = ("friendlyPassOk",)  # KataGo's, about passing etiquette: no effect here
CHOICES = {"ko": ("SIMPLE", "POSITIONAL", "SITUATIONAL"), "scoring": ("AREA", "TERRITORY"),
           "tax": ("NONE", "SEKI", "ALL"), "whiteHandicapBonus": ("0", "N", "N-1")}


def shorthand(name: str) -> dict:
    """KataGo's rules object for a shorthand name (case and '_' / '-' alike)."""
    key = name.strip().lower().replace("_", "-")
    if key not in SHORTHANDS:
        raise GtpFailure(f"unknown rules '{name[:40]}' (known: {', '.join(SHORTHANDS)})")
    ko, scoring, suicide, tax, bonus = SHORTHANDS[key]
    return {"hasButton": key == "aga-button", "ko": ko, "scoring": scoring, "suicide": suicide,
            "tax": tax, "whiteHandicapBonus": bonus}


def describe(rules: Rules, bonus: str) -> dict:
    """kata-get-rules' object for rlgo's rules."""
    return {"hasButton": False, "ko": rules.ko.upper(), "scoring": rules.scoring.upper(),
            "suicide": rules.suicide, "tax": "SEKI" if rules.scoring == "territory" else "NONE",
            "whiteHandicapBonus": bonus}


def _field(fields: dict, name: str):
    value = fields[name]
    if name in ("suicide", "hasButton"):
        if not isinstance(value, bool):
            raise GtpFailure(f"{name} must be true or false")
        return value
    text = str(value).upper() if isinstance(value, str | int) and not isinstance(
        value, bool) else None
    if text not in CHOICES[name]:
        raise GtpFailure(f"{name} must be one of {', '.join(CHOICES[name])}")
    return text


def to_rules(fields: dict, current: Rules) -> tuple[Rules, str, list[str]]:
    """A KataGo rules object -> (Rules with current's size and komi, whiteHandicapBonus, notes
    on what is approximated). GtpFailure for what rlgo cannot play (module docstring)."""
    unknown = [k for k in fields if k not in FIELDS + IGNORED_FIELDS]
    if unknown:
        raise GtpFailure(f"unknown rules field '{str(unknown[0])[:40]}'")
    values = {name: _field(fields, name) for name in FIELDS}
    notes = []
    if values["hasButton"]:
        raise GtpFailure("hasButton true is not supported (no button Go in rlgo)")
    if values["tax"] == "ALL":
        raise GtpFailure("tax ALL (stone scoring) is not supported")
    if values["scoring"] == "AREA" and values["tax"] != "NONE":
        raise GtpFailure("tax SEKI with area scoring is not supported")
    if values["scoring"] == "TERRITORY" and values["tax"] == "NONE":
        notes.append("territory in seki is not counted (counted as tax SEKI)")
    ko = values["ko"]
    if ko == "SITUATIONAL":
        notes.append("situational superko is played as positional superko")
        ko = "POSITIONAL"
    if values["whiteHandicapBonus"] != "0":
        notes.append(f"whiteHandicapBonus {values['whiteHandicapBonus']}: no points are added "
                     "for handicap stones; the komi sent is the komi counted")
    rules = Rules(current.size, current.komi, ko.lower(), values["suicide"],
                  values["scoring"].lower())
    return rules, values["whiteHandicapBonus"], notes


class RulesCommands:
    """kgs-rules, kata-set-rules, kata-set-rule, kata-get-rules (module docstring)."""

    handicap_bonus = "0"  # the whiteHandicapBonus last set, for kata-get-rules

    def cmd_kgs_rules(self, args) -> str:
        """kgs-rules chinese|japanese|aga|new_zealand (kgsGtp)."""
        expect(args, 1, "kgs-rules needs one of chinese, japanese, aga, new_zealand")
        name = args[0].lower()
        if name not in KGS_RULES:
            raise GtpFailure(f"unknown rules '{args[0][:40]}' (kgs-rules knows chinese, "
                             "japanese, aga, new_zealand)")
        self._set_rules(shorthand(KGS_RULES[name]))
        return ""

    def cmd_kata_set_rules(self, args) -> str:
        """kata-set-rules SHORTHAND | JSON (KataGo)."""
        if not args:
            raise GtpFailure("kata-set-rules needs a rules name or a JSON object")
        text = " ".join(args)
        if not text.startswith("{"):
            expect(args, 1, "kata-set-rules takes one rules name")
            self._set_rules(shorthand(text))
            return ""
        try:
            fields = json.loads(text)
        except (ValueError, RecursionError):
            raise GtpFailure("rules JSON does not parse") from None
        if not isinstance(fields, dict):
            raise GtpFailure("rules JSON must be an object")
        self._set_rules({**describe(self.rules, self.handicap_bonus), **fields})
        return ""

    def cmd_kata_set_rule(self, args) -> str:
        """kata-set-rule FIELD VALUE (KataGo): one field, the others kept."""
        expect(args, 2, "kata-set-rule needs a field and a value")
        name = next((f for f in FIELDS + IGNORED_FIELDS if f.lower() == args[0].lower()), None)
        if name is None:
            raise GtpFailure(f"unknown rules field '{args[0][:40]}'")
        value: object = args[1]
        if name in ("suicide", "hasButton", "friendlyPassOk"):
            value = {"true": True, "false": False}.get(args[1].lower(), args[1])
        self._set_rules({**describe(self.rules, self.handicap_bonus), name: value})
        return ""

    def cmd_kata_get_rules(self, args) -> str:
        return json.dumps(describe(self.rules, self.handicap_bonus), sort_keys=True,
                          separators=(",", ":"))

    def _set_rules(self, fields: dict) -> None:
        rules, bonus, notes = to_rules(fields, self.rules)
        for note in notes:
            self._log(f"rules: {note}")
        moves = self.position.move_number
        self.rules, self.handicap_bonus = rules, bonus
        self.position = game.replay(self.position, rules)
        if self.position.move_number != moves:
            self._log(f"rules: the game stops at move {self.position.move_number}: the next "
                      "move is illegal under the new rules")
