# The two commands a newcomer needs are `make run` and `make test`; both build the
# virtual environment themselves from nothing but Python and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := $(wildcard src tests bench policies)

.PHONY: run run-cluster test lint format bench bench-scaling bench-policy lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/casestore serve --demo --with-worker

# Two API processes (ports 8000 and 8001) and two webhook workers on the local PostgreSQL
# (CASESTORE_DATABASE_URL, default: database test, schema cluster).
run-cluster: $(STAMP)
	$(BIN)/python -m casestore.entrypoints.cluster

test: $(STAMP)
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

bench: $(STAMP)
	$(BIN)/python -m bench

# The scaling run alone, up to a million events in the store (its set-up takes a while).
bench-scaling: $(STAMP)
	$(BIN)/python -m bench --only-scaling --scaling-sizes 10000,100000,1000000

bench-policy: $(STAMP)
	$(BIN)/python -m bench --only-policy

# The image's dependencies, pinned with hashes from pyproject.toml (tests/deploy checks
# that the two are in step): run after changing a dependency.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
