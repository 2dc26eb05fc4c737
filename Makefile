# The two commands of the README:
#   make run    install, then solve the shipped baseline scenario
#   make test   install (with test tools), then lint (ruff, import contracts, mypy) and
#               run the whole test suite
#               (in CI, first installs Debian chromium for the browser test if missing)
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/dec2026-baseline.yaml
# test workers (pytest-xdist); a test file runs in one worker, so its solved scenarios are shared
TEST_JOBS ?= 2

.PHONY: install run test lint

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/sourcing run $(SCENARIO)

# ruff, the import contracts of DESIGN §2 (pyproject [tool.importlinter]) and mypy
lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

# The browser test opens report.html in Debian's Chromium; in CI (CI=true, as root)
# it is installed here when missing, and the test fails rather than skips without it.
test: lint
	@if [ "$$CI" = "true" ] && [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium for the browser test"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile
