# Every target sets up .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

VECTORS := knowledge/data/vectors.npz
PARSED := knowledge/data/parsed.json prompts/parsed.json

# Python caches compiled modules (__pycache__, ignored by git); a shell that turns that off
# would make every process the suite and the chat start compile the project again (the suite
# spawns hundreds: about 70 s of a 5-minute run on 2 cores).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: chat test lint bench clean vectors parsed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/skillaudit chat

# Two workers: the suite is CPU-bound and the machines have two cores (about 40% faster).
# Work stealing, with the long tests first (tests/conftest.py), keeps both busy to the end.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

# The catalog's embeddings, shipped in the package so that no install embeds 400 passages.
# Run after changing the catalog or the taxonomy: only new or changed passages are embedded,
# and tests/knowledge/test_vectors.py fails until the file matches the catalog again.
vectors: $(VECTORS)

$(VECTORS): knowledge/data/catalog/*.yaml knowledge/data/skills.yaml knowledge/passages.py knowledge/vectors.py | $(STAMP)
	$(BIN)/python -m knowledge.vectors

# The bundled YAML files stored parsed (JSON), so that no start parses them. Run after
# changing any YAML file under knowledge/data/ or prompts/; an edited file is parsed from its
# YAML until then, and tests/knowledge/test_parsed.py fails until the stored form matches again.
parsed: $(PARSED)

$(PARSED) &: knowledge/data/*.yaml knowledge/data/catalog/*.yaml knowledge/data/checks/*.yaml $(wildcard prompts/*/*.yaml) knowledge/parsed.py prompts/parsed.py | $(STAMP)
	$(BIN)/python -m knowledge.parsed
	$(BIN)/python -m prompts.parsed

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
