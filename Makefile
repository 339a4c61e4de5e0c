# apac-lab task runner. The two README commands are `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Real data for tests when the shared folder sits beside the checkout (CI); else synthetic.
SHARED_DATA := $(abspath ../shared/data)
TEST_ENV := APAC_LAB_QUICK=1 APAC_LAB_OFFLINE=1 MPLBACKEND=Agg \
	$(if $(wildcard $(SHARED_DATA)),APAC_LAB_DATA=$(SHARED_DATA),)

.PHONY: install lab test test-unit test-notebooks test-browser bench clean-outputs

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

install: $(BIN)/.installed

lab: install  ## install everything, then open JupyterLab on notebooks/
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: install  ## install everything, then run the unit tests, every notebook, and every notebook in a browser
	$(MAKE) test-unit test-notebooks test-browser

test-unit: install
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/browser --doctest-modules apac_lab -q $(PYTEST_ARGS)

test-notebooks: install
	$(TEST_ENV) $(BIN)/python -m pytest --nbmake --nbmake-timeout=300 notebooks -q $(PYTEST_ARGS)

test-browser: install  ## every notebook in JupyterLab in headless Chromium; screenshots in artifacts/browser/
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q $(PYTEST_ARGS)

bench: install  ## print each notebook's quick-mode run time
	$(TEST_ENV) $(BIN)/python benchmarks/notebook_times.py

clean-outputs:  ## strip outputs from every notebook
	$(BIN)/python -m apac_lab.notebook_tools strip notebooks
