# Two entry points for a fresh clone (see README):
#   make run   - install everything, build the warehouse, serve the app on http://127.0.0.1:8501
#   make test  - install everything (incl. Debian chromium + chromium-driver), lint, run all tests
# `make` alone (or `make help`) lists every target: the text after `##` on a target's line.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := chromium chromium-driver fonts-nanum

BQEMU  := .venv-bqemu
BQEMU_STAMP := $(BQEMU)/.installed

.PHONY: help setup run api test system-deps lint bench bq-emulator
.DEFAULT_GOAL := help

help: ## List the targets with what each does (the default goal)
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

ASSETS := static/vendor/.installed

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	# causalml (uplift meta-learners, Qini/AUUC) without its declared deps: it names plain `xgboost`
	# (which would pull a 469 MB NCCL wheel beside xgboost-cpu) and plotting and tree extras the
	# project does not import; what its meta-learners and metrics import is in pyproject.toml.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c requirements.lock causalml
	touch $(STAMP)

# Leaflet and plugins from the npm registry, served by the app itself (no CDN at run time).
# The copy list (VENDOR_FILES) is in churn_core/geo/maps.py: a change there copies again.
$(ASSETS): vendor/package.json vendor/package-lock.json churn_core/geo/maps.py $(STAMP)
	npm ci --prefix vendor --no-audit --no-fund --loglevel=error
	$(BIN)/python -c "from churn_core.geo.maps import install_vendor_assets as i; i('vendor/node_modules', 'static')"
	touch $(ASSETS)

setup: $(STAMP) $(ASSETS) ## Create .venv (pip, from requirements.lock) and install the map's Leaflet assets

run: setup ## Build the warehouse, train the model if models/ has none, print how to sign in, serve app + API on 127.0.0.1:8501
	$(BIN)/churn-studio warehouse build
	$(BIN)/churn-studio train --only-if-missing --no-evaluate --no-grid
	$(BIN)/churn-studio model compile
	$(BIN)/churn-studio demo-accounts
	$(BIN)/streamlit run app.py

api: setup ## Serve the HTTP API alone (predictions at /v1, one-click unsubscribe at /optout) on 127.0.0.1:8502; `make run` mounts it at /api
	$(BIN)/python -m api

# The APT packages not installed yet, asked of dpkg when system-deps runs (all of them where there is no dpkg).
apt_missing = $(shell for p in $(APT_PACKAGES); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q ' installed$$' || echo $$p; done)

system-deps: ## apt-get install chromium, chromium-driver, fonts-nanum (skipped, apt-get update too, when all are installed)
	$(if $(apt_missing),$(SUDO) apt-get update -qq,@echo "system-deps: $(APT_PACKAGES) already installed")
	$(if $(apt_missing),DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES),@:)

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

bq-emulator: $(BQEMU_STAMP) ## Set up the local BigQuery emulator in .venv-bqemu (with DuckDB's spatial extension)

lint: setup ## ruff check and ruff format --check on the whole tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The BigQuery emulator is started on 127.0.0.1 for the test run and stopped after it.
test: setup system-deps bq-emulator lint ## Set up, install the APT packages, lint, run pytest against the BigQuery emulator
	$(BIN)/python tests/bq_emulator.py run -- $(BIN)/pytest

bench: setup ## Run every benchmark into benchmarks/results/ (app, map, warehouse + EDA at 10M, compiled scoring, pages at scale, API, snapshot/retrain commands; over an hour)
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python benchmarks/bench_warehouse.py
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_pages.py --sizes 1000000 10000000
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_ops.py
