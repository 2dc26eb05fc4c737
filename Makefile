# The two commands of the README:
#   make run    install, then solve the shipped baseline scenario
#   make test   install (with test tools), then lint and run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/rare-earths-baseline.yaml

.PHONY: install run test lint

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/sourcing run $(SCENARIO)

lint: install
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest
