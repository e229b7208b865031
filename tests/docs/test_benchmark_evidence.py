"""docs/benchmarks.md states only what the committed benchmark JSON holds.

docs/benchmarks/render.py fills the page's figures from docs/benchmarks/*.json (`make bench`
writes both); rendering the committed page again must change nothing, so a figure edited by
hand, or JSON re-measured without rendering the page, fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "docs" / "benchmarks" / "render.py"


def load_render():
    spec = importlib.util.spec_from_file_location("docs_benchmarks_render", RENDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_page_equals_its_json():
    render = load_render()
    page = render.PAGE.read_text()
    try:
        rendered = render.render(page)
    except (FileNotFoundError, KeyError) as err:
        pytest.fail(f"docs/benchmarks.md states a figure without its JSON: {err}")
    assert rendered == page, ("docs/benchmarks.md differs from docs/benchmarks/*.json: run "
                              "`.venv/bin/python docs/benchmarks/render.py` and commit both")


def test_render_fills_a_keyed_row_and_refuses_a_missing_key(tmp_path):
    render = load_render()
    (tmp_path / "go.json").write_text('{"playouts_per_s_9x9": 29385.4, "cold_start_s": 0.514,'
                                      ' "machine": {"cpus": 2}}')
    page = ("## `rlgo bench go`\n| `playouts_per_s_9x9` | ? | playouts/s |\n"
            "| `cold_start_s` | ? | s |\n| `machine.cpus` | ? | |\n## Notes\n| `x` | 1 | |\n")
    assert render.render(page, tmp_path) == (
        "## `rlgo bench go`\n| `playouts_per_s_9x9` | 29,385 | playouts/s |\n"
        "| `cold_start_s` | 0.514 | s |\n| `machine.cpus` | 2 | |\n## Notes\n| `x` | 1 | |\n")
    with pytest.raises(KeyError):
        render.render("## `rlgo bench go`\n| `nope` | 1 | |\n", tmp_path)
    with pytest.raises(FileNotFoundError):
        render.render("## `rlgo bench mcts`\n", tmp_path)
