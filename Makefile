# Two entry points for a fresh machine: `make demo` and `make test`. Both create the venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
POPULATION ?= 50000

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install demo test lint bench serve
install: $(BIN)/.installed

demo: install
	$(BIN)/stratify synth --patients $(POPULATION) --seed 42 --out synthetic
	$(BIN)/stratify build --feeds synthetic/feeds --db stratify.duckdb
	$(BIN)/stratify evaluate-linkage --db stratify.duckdb --truth synthetic/ground_truth
	$(BIN)/stratify train --db stratify.duckdb --card model_card.html
	$(BIN)/stratify score --db stratify.duckdb --also-previous-month
	$(BIN)/stratify evaluate-model --db stratify.duckdb --truth synthetic/ground_truth
	$(BIN)/stratify candidates --db stratify.duckdb
	$(BIN)/stratify adherence --db stratify.duckdb
	$(BIN)/stratify audit --db stratify.duckdb
	$(BIN)/stratify conference --db stratify.duckdb --cluster all --month 2026-11

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/bench_synth.py
	$(BIN)/python bench/bench_build.py
	@echo "bench/bench_models.py --db PATH and bench/bench_app.py --db PATH run on a built registry (see README)"

# The web app on the demo database; creates users.yaml with an administrator on first use
# (password from STRATIFY_PASSWORD, else a prompt). Add users in the app or with `stratify users`.
serve: install
	test -f users.yaml || $(BIN)/stratify users --db stratify.duckdb --username admin --role admin --set-password
	$(BIN)/stratify serve --db stratify.duckdb
