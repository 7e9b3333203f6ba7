# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
# `make check` is the inner loop: lint and the tests that need no service, browser or long real-footage run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Markers registered in pyproject.toml; tests/conftest.py puts postgres, mqtt and browser on tests by their fixtures.
NEEDS_MORE_THAN_CHECK := postgres or mqtt or browser or slow

# Every package .venv holds, at the release the whole suite last passed with: a new release of PyAV or onnxruntime
# cannot fail CI unannounced. `make lock` installs the newest releases pyproject.toml allows and writes them down.
CONSTRAINTS := constraints.txt
LOCK_VENV := .lock-venv

.PHONY: demo check test lint format bench clean lock

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev,cloud]'
	touch $(STAMP)

lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[dev,cloud]'
	{ echo "# Written by \`make lock\` on $$(date -u +%Y-%m-%d): the releases .venv installs (pip's -c). Run \`make test\` after it."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

demo: $(STAMP)
	$(BIN)/homewarden demo --out demo-output

check: lint
	$(BIN)/pytest -n auto -m "not ($(NEEDS_MORE_THAN_CHECK))"

test: $(STAMP)
	scripts/ensure-chromium.sh
	scripts/ensure-rtsp-server.sh
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) demo-output homewarden-data .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
