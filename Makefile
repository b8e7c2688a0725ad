# The two set-up commands of the README: `make run` (main job) and `make test` (test suite).
# Each creates the virtual environment on first use and installs kgan with its extras.
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= cpu,app,dev

.PHONY: run test install

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/kgan train --preset digits --name digits --overwrite

test: $(VENV)/.installed
	$(PY) -m pytest -q
