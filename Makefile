# The two commands of the README's quick start: `make demo` and `make test`.
# Each target creates .venv and installs what it needs; when already set up it does nothing more.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_ARGS ?=  # e.g. make demo DEMO_ARGS="--port 8402"
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-unit test-integration lint format bench bench-wan bench-decode bench-generation bench-catalog bench-review clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tdm-desktop needs Python 3.11 or newer; set PYTHON=python3.x")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local-s3]'
	@touch $@

demo: $(STAMP)
	$(BIN)/tdm-desktop demo $(DEMO_ARGS)

test: $(STAMP) lint
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration"

test-integration: $(STAMP)
	$(BIN)/python -m pytest -m integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python benchmarks/grid_load.py

# The grid over three WAN links through the benchmark's shaping proxy: far but fast, office, home.
bench-wan: $(STAMP)
	$(BIN)/python benchmarks/grid_load.py --images 300 --link far
	$(BIN)/python benchmarks/grid_load.py --images 300 --link office
	$(BIN)/python benchmarks/grid_load.py --images 300 --link home

bench-decode: $(STAMP)
	$(BIN)/python benchmarks/decode.py

bench-generation: $(STAMP)
	$(BIN)/python benchmarks/generation.py

bench-catalog: $(STAMP)
	$(BIN)/python benchmarks/catalog.py

# The review in the window: a curator's keys every 300 ms, loading with and without analysis.
bench-review: $(STAMP)
	$(BIN)/python benchmarks/review_session.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
