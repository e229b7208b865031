# The two commands of the README's quick start, and what they stand on.
#   make play   set up, then play a game of Go against the engine (a pygame window)
#   make test   set up, then lint, check the layering, and run the test suite
# Set-up is idempotent: a second run only checks that nothing changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A CPU build of torch unless a CUDA driver is present (the CPU wheel is far smaller).
TORCH  := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo torch || echo torch==2.13.0)

.PHONY: setup warmup play test lint bench gnugo clean

setup: $(STAMP) gnugo warmup

$(STAMP): pyproject.toml setup.py
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The engine's numba kernels, compiled and cached once per version of their sources (about a
# minute; in ~/.cache/rlgo/numba, see envs/go/kernel_cache.py), so the first move of `make
# play` comes at once; a few seconds to check when already warm.
warmup: $(STAMP)
	$(BIN)/python -m rlgo.warmup

# GNU Go is the rules oracle and sparring partner, goban-original-games real records for the
# SGF tests; install them when apt can (as root).
gnugo:
	@{ command -v gnugo >/dev/null 2>&1 || test -x /usr/games/gnugo; } && \
	  test -d /usr/share/goban || \
	  { if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	      apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	        gnugo goban-original-games; \
	    else echo "note: apt-get install gnugo goban-original-games (their tests skip)"; fi; }

# Sabaki's own GTP library drives the engine in one test (needs node and npm).
SABAKI := tests/rlgo/sabaki/node_modules/.package-lock.json
$(SABAKI): tests/rlgo/sabaki/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --prefix tests/rlgo/sabaki; \
	else echo "note: npm not found; the Sabaki controller test will skip"; fi

play: setup
	$(BIN)/rlgo go play

test: setup $(SABAKI) lint
	$(BIN)/python -m pytest -m "not slow and not gpu"

lint:
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The figures of docs/benchmarks.md: each bench writes its JSON there, then render.py copies
# the figures into the page (a test checks that page and JSON agree). Run on an idle machine.
bench: setup
	$(BIN)/rlgo bench go --json docs/benchmarks/go.json
	$(BIN)/rlgo bench mcts --json docs/benchmarks/mcts.json
	$(BIN)/rlgo bench replay --json docs/benchmarks/replay.json
	$(BIN)/rlgo bench selfplay --json docs/benchmarks/selfplay.json
	$(BIN)/rlgo bench atari --config configs/bench/atari.yaml --json docs/benchmarks/atari.json
	$(BIN)/python docs/benchmarks/render.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
