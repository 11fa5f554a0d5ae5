# Two entry points, both self-contained on a fresh machine (Python >= 3.10 with venv):
#   make demo   set up, then compile the examples/ kernels and compare run times
#   make test   set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -qq --upgrade pip
	$(VENV)/bin/python -m pip install -qq -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python examples/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check accir tests benchmarks examples
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/python -m pytest -q -n auto

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/suite.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
