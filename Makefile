# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
DOMAIN ?= 127.0.0.1:8000
PORT ?= 8000

.PHONY: run test lint typecheck unit install system-packages bench clean

$(BIN)/fedipub: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/fedipub

install: $(BIN)/fedipub

# A demo blog on the embedded default (SQLite), keys in the repository's keys/ folder.
run: install
	@if [ ! -f $(DATA)/fedipub.toml ]; then \
		$(BIN)/fedipub init --data $(DATA) --domain $(DOMAIN) --scheme http --keys keys \
			--username blog --display-name "A fedipub blog" && \
		$(BIN)/fedipub publish --data $(DATA) fedipub/demo/hello-fediverse.md; \
	fi
	FEDIPUB_ALLOW_PRIVATE_ADDRESSES=1 $(BIN)/fedipub serve --data $(DATA) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q

# Debian packages some tests use (Chromium, nginx…): installed when root on Debian, else the
# tests that need them skip and say why.
system-packages:
	bash .ci/install-system-packages

test: system-packages lint typecheck unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
