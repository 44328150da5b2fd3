# Two entry points for a fresh clone (see README):
#   make run   - install everything, build the warehouse, serve the app on http://127.0.0.1:8501
#   make test  - install everything (incl. Debian chromium + chromium-driver), lint, run all tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := chromium chromium-driver fonts-nanum

.PHONY: setup run test system-deps lint bench

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/churn-studio warehouse build
	$(BIN)/churn-studio train --only-if-missing --no-evaluate --no-grid
	$(BIN)/streamlit run Home.py

system-deps:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup system-deps lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_app.py
