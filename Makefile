# Every target sets up .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/skillaudit chat

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every bench/bench_*.py records its headline figures; report.py writes bench/RESULTS.md.
bench: $(STAMP)
	@records=$$(mktemp); trap 'rm -f $$records' EXIT; \
	for script in bench/bench_*.py; do echo "== $$script"; \
		BENCH_RECORD=$$records $(BIN)/python $$script || exit 1; done; \
	$(BIN)/python bench/report.py $$records bench/RESULTS.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
