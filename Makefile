# The two commands of the README: `make run` and `make test`. Both need only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format messages clean-data

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: the portal with web, worker and beat (embedded PostgreSQL/Redis unless URLs are set)
run: $(INSTALLED)
	$(PY) scripts/devstack.py run

## test: the test suite (ARGS="-k healthz" to pass arguments to pytest)
test: $(INSTALLED)
	$(PY) scripts/devstack.py test $(ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## messages: extract the French and English catalogues (needs GNU gettext)
messages: $(INSTALLED)
	$(PY) manage.py makemessages --locale fr --locale en --ignore '.venv/*' --ignore '.data/*' --no-obsolete

## clean-data: forget the embedded databases (demo data is seeded again on the next run)
clean-data:
	rm -rf .data
