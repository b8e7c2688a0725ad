# The two set-up commands of the README: `make run` (main job) and `make test` (test suite).
# Each creates the virtual environment on first use and installs kgan with its extras; so do
# `make sample`, `make dashboard` and `make tensorboard`, the commands `kgan train` prints next.
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= cpu,app,tensorboard,dev
# The run `make sample` draws from, and the runs folder of sample/dashboard/tensorboard: the
# default ($KGAN_RUNS_DIR or saved_models/) unless RUNS_DIR=DIR is given on the command line.
ifneq ($(origin NAME),command line)
NAME := digits
endif
ifneq ($(origin RUNS_DIR),command line)
RUNS_DIR :=
endif

.PHONY: run test install sample dashboard tensorboard

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

# 64 samples of run NAME into NAME.png.
sample: $(VENV)/.installed
	$(VENV)/bin/kgan sample "$(NAME)" --out "$(NAME).png" $(if $(RUNS_DIR),--runs-dir "$(RUNS_DIR)")

# The dashboard on http://localhost:8501 (this machine only: .streamlit/config.toml).
dashboard: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py $(if $(RUNS_DIR),-- --runs-dir "$(RUNS_DIR)")

# TensorBoard on http://localhost:6006 over every run trained with --tensorboard.
tensorboard: $(VENV)/.installed
	$(VENV)/bin/tensorboard --logdir "$(or $(RUNS_DIR),$${KGAN_RUNS_DIR:-saved_models})"
