# cairn: `make demo` installs cairn and logs an example experiment; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The web UI (TypeScript, ui/) is built with Vite into the package, where the server finds it.
UI_BUILD := src/cairn/server/webui/index.html
UI_DEPS := ui/node_modules/.package-lock.json
UI_SOURCES := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/vite.config.ts \
	ui/tsconfig.json ui/package.json

.PHONY: install demo test lint bench clean ui

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# npm ci only when the lock file changed; the build only when a source is newer than it.
$(UI_DEPS): ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $(UI_DEPS)

$(UI_BUILD): $(UI_DEPS) $(UI_SOURCES)
	cd ui && npm run build

ui: $(UI_BUILD)

install: $(STAMP) $(UI_BUILD)

demo: install
	$(BIN)/python examples/demo.py
	$(BIN)/cairn ui

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy
	cd ui && npm run check

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mlruns ui/node_modules src/cairn/server/webui
