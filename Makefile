# diffkit: `make demo` and `make test` set themselves up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck bench docs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/diffkit tour

lint: $(STAMP)
	$(VENV)/bin/ruff check diffkit tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy diffkit

test: lint typecheck
	$(PY) -m pytest -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/run.py

# The lessons are executed too here (the test suite renders them as stored).
docs: $(STAMP)
	DIFFKIT_DOCS_EXECUTE_LESSONS=1 $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache diffkit-tour
