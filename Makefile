# The two quick-start commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what running needs (requirements.txt); `make test` adds the test
# tools (requirements-dev.txt).
STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-postgres lint bench install install-dev clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

# Ctrl-C stops everything; the worker first finishes the tasks it is running (Procfile,
# deploy/worker_session.py), within a grace longer than Q_TIMEOUT (deploy/honcho_start.py).
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_data
	$(BIN)/python deploy/honcho_start.py -f Procfile

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What CI checks before the tests (the pre-commit hooks run the same): lint, format, no model
# change without its migration, and the layers (pyproject.toml's [tool.importlinter]).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports

# Benchmarks against real processes and throw-away databases; writes bench/results.json and
# bench/RESULTS.md (`make bench BENCH_ARGS="--only fanout"` runs one). Never part of `make test`.
bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The same suite on PostgreSQL with Redis as broker and cache (both must be running).
test-postgres: $(DEV_STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
