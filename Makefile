# skyfence: the two commands a newcomer runs are `make demo` and `make test`.
# Both create .venv if missing and install the pinned dependencies (requirements.lock).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
OUT    ?= out/demo

.PHONY: help install demo test test-fast bench fuzz clean web

help:
	@echo "make demo   - set up .venv and run the demo (simulate, analyse, evaluate, the live monitor into a SQLite incident store, a hotline exchange, then the web page until Ctrl-C); results in $(OUT)"
	@echo "make test   - set up .venv and run the test suite"
	@echo "make bench  - run the benchmarks and print the figures"
	@echo "make fuzz   - fuzz every reader and live feed (10,000 seeded cases; FUZZ_CASES=... to change)"
	@echo "make web    - rebuild the page (frontend/ with npm and esbuild) into src/skyfence/web/static/"
	@echo "make clean  - remove .venv and outputs"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m skyfence.kernels
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/skyfence demo --out $(OUT)

# Three workers on two cores: many tests wait (on a monitor's clock, a subprocess, a browser) rather than
# compute. On this machine (2026-12-02) the suite took 10:41 on two workers, and 8:19 on three with some of
# the monitor tests trimmed too (about 35 s of the gain); the same tests pass, none skipped.
test: $(STAMP)
	$(BIN)/python -m pytest -n 3 --dist loadfile --durations=15 -rs

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m skyfence.bench

FUZZ_CASES ?= 10000

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run --cases $(FUZZ_CASES)

# The page's built files are committed; only a change under frontend/ needs npm (the npm registry).
web:
	cd frontend && npm ci --no-audit --no-fund && node build.mjs

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
