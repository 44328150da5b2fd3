# Two entry points for a fresh clone (see README):
#   make run   - install everything, build the warehouse, serve the app on http://127.0.0.1:8501
#   make test  - install everything (incl. Debian chromium + chromium-driver), lint, run all tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := chromium chromium-driver fonts-nanum

BQEMU  := .venv-bqemu
BQEMU_STAMP := $(BQEMU)/.installed

.PHONY: setup run test system-deps lint bench bq-emulator

ASSETS := static/vendor/.installed

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# Leaflet and plugins from the npm registry, served by the app itself (no CDN at run time).
$(ASSETS): vendor/package.json vendor/package-lock.json $(STAMP)
	npm ci --prefix vendor --no-audit --no-fund --loglevel=error
	$(BIN)/python -c "from churn_core.maps import install_vendor_assets as i; i('vendor/node_modules', 'static')"
	touch $(ASSETS)

setup: $(STAMP) $(ASSETS)

run: setup
	$(BIN)/churn-studio warehouse build
	$(BIN)/churn-studio train --only-if-missing --no-evaluate --no-grid
	$(BIN)/streamlit run Home.py

system-deps:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES)

# The local BigQuery emulator in its own venv (it pins its own DuckDB). DuckDB's spatial
# extension comes from PyPI and is put where DuckDB looks, under a HOME of the venv's own.
$(BQEMU_STAMP): requirements-bqemu.lock
	$(PYTHON) -m venv $(BQEMU)
	$(BQEMU)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bqemu.lock
	$(BQEMU)/bin/python -c "import duckdb, duckdb_extension_spatial as s, pathlib, shutil; \
	  v = duckdb.__version__; plat = duckdb.sql('PRAGMA platform').fetchall()[0][0]; \
	  src = next(pathlib.Path(s.__file__).parent.rglob('spatial.duckdb_extension')); \
	  dst = pathlib.Path('$(BQEMU)/home/.duckdb/extensions') / f'v{v}' / plat; \
	  dst.mkdir(parents=True, exist_ok=True); shutil.copy(src, dst / src.name)"
	touch $(BQEMU_STAMP)

bq-emulator: $(BQEMU_STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The BigQuery emulator is started on 127.0.0.1 for the test run and stopped after it.
test: setup system-deps bq-emulator lint
	$(BIN)/python tests/bq_emulator.py run -- $(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python benchmarks/bench_warehouse.py
