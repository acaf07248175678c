# Two commands: `make reproduce` and `make test`. Both create .venv from requirements.txt on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PAPER ?= hopfield_layers
CONFIG ?= small
WORKDIR ?= runs/$(PAPER)_$(CONFIG)
TEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: reproduce test venv clean-venv smoke-all

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=python3.x)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

reproduce: venv
	$(PY) -m launch.reproduce $(PAPER) --config $(CONFIG) --workdir $(WORKDIR)

test: venv
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

smoke-all: venv
	$(PY) -m launch.reproduce --all --config smoke --workdir runs/smoke_all

clean-venv:
	rm -rf $(VENV)
