"""rlgo's GTP engine driven by Sabaki's own GTP library (@sabaki/gtp, run with node).

This is the controller code the Sabaki GUI runs: its start-up queries, its board sync (setup
stones as consecutive plays of one colour), genmove, lz-analyze stopped by new input, and
Sabaki's own analyze / genmove_analyze.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require

DRIVER = Path(__file__).parent / "sabaki"


def test_sabaki_controller_drives_the_engine():
    node = shutil.which("node")
    installed = (DRIVER / "node_modules" / "@sabaki" / "gtp").is_dir()
    require("node with @sabaki/gtp (npm ci --prefix tests/rlgo/sabaki)", bool(node) and installed)
    engine = [sys.executable, "-m", "rlgo.cli", "go", "gtp", "--time", "0.3", "--quiet"]
    run = subprocess.run([node, str(DRIVER / "drive.js"), *engine], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["name"] == "rlgo" and seen["protocol"] == "2"
    assert all(seen[f"knows_{name}"] for name in ("lz-analyze", "genmove", "undo", "komi"))
    assert "(X)" in seen["board"] and seen["board"].count("X") == 3  # synced; last: C7
    assert seen["genmove"] not in ("resign", "") and seen["after_analysis"] == "rlgo"
    assert seen["analysis_lines"] >= 1
    assert seen["first_analysis"].startswith("info move ") and " winrate " in seen["first_analysis"]
    assert seen["bad_move_error"] is True
    # Sabaki's analyze/genmove_analyze (engine-analysis-integration.md): float win rates
    assert seen["analyze_lines"] >= 1
    first = seen["first_analyze"].split(" ")
    assert first[:2] == ["info", "move"] and "." in first[first.index("winrate") + 1]
    assert not seen["genmove_analyze_error"] and seen["genmove_analyze_lines"] >= 1
    played = seen["genmove_analyze_last"].split(" ")
    assert played[0] == "play" and played[1] not in ("resign", "pass")
    assert seen["board_after"].count("X") == 4  # genmove_analyze played its move
    assert int(seen["version"].split(" ")[0].split(".")[1]) >= 15  # what Lizzie checks
