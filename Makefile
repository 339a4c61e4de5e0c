# apac-lab task runner. The two README commands are `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Real data for tests when the shared folder sits beside the checkout (CI); else synthetic.
SHARED_DATA := $(abspath ../shared/data)
# The quick budget (APAC_LAB_QUICK=1 is the same as APAC_LAB_BUDGET=quick; tests that set
# APAC_LAB_QUICK themselves rely on it being the switch in force here).
TEST_ENV := APAC_LAB_QUICK=1 APAC_LAB_OFFLINE=1 MPLBACKEND=Agg \
	$(if $(wildcard $(SHARED_DATA)),APAC_LAB_DATA=$(SHARED_DATA),)
# Chromium for the browser tests: $APAC_LAB_CHROMIUM, else Debian's binary (tests/browser looks in the same place).
CHROMIUM := $(or $(APAC_LAB_CHROMIUM),/usr/lib/chromium/chromium)
# BROWSER_TESTS=auto: `make test` runs the browser tests where Chromium is found, and otherwise says so and passes.
# BROWSER_TESTS=required (.ci/run): a missing Chromium fails.
BROWSER_TESTS ?= auto
# `make bench` times every notebook under this budget (quick, as CI runs them; or classroom, full).
BENCH_BUDGET ?= quick

.PHONY: install lab test test-unit test-notebooks test-browser test-browser-if-chromium test-colab bench clean-outputs

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

install: $(BIN)/.installed

lab: install  ## install everything, then open JupyterLab on notebooks/
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: install  ## install everything, then run the unit tests, every notebook, and (with Chromium) every notebook in a browser
	$(MAKE) test-unit test-notebooks test-browser-if-chromium

test-unit: install
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/browser --doctest-modules apac_lab -q $(PYTEST_ARGS)

test-notebooks: install
	$(TEST_ENV) $(BIN)/python -m pytest --nbmake --nbmake-timeout=300 notebooks -q $(PYTEST_ARGS)

test-browser: install  ## every notebook in JupyterLab in headless Chromium; screenshots in artifacts/browser/
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser -q $(PYTEST_ARGS)

test-browser-if-chromium:  ## the browser tests where Chromium is found; otherwise one line saying how to run them
	@if [ -x "$(CHROMIUM)" ]; then \
		$(MAKE) --no-print-directory test-browser; \
	elif [ "$(BROWSER_TESTS)" = required ]; then \
		echo "make test: BROWSER_TESTS=required, but there is no Chromium at $(CHROMIUM): install it (apt-get install chromium) or set APAC_LAB_CHROMIUM" >&2; \
		exit 1; \
	else \
		echo "make test: browser tests NOT run (no Chromium at $(CHROMIUM)); to run them, install Chromium (apt-get install chromium, or set APAC_LAB_CHROMIUM to its binary), then: make test-browser"; \
	fi

bench: install  ## print each notebook's run time under BENCH_BUDGET (default quick)
	$(TEST_ENV) $(BIN)/python benchmarks/notebook_times.py --budget $(BENCH_BUDGET)

test-colab:  ## every notebook in a Colab-like environment (.ci/colab-requirements.txt), each widget moved once
	$(TEST_ENV) bash .ci/test-colab

clean-outputs:  ## strip outputs from every notebook
	$(BIN)/python -m apac_lab.notebook_tools strip notebooks
