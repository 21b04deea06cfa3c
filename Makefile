# lx-functions: every target creates its own .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install azurite lint typecheck test unit demo up bench iac checkov clean

$(STAMP): pyproject.toml requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e '.[dev,sandbox,cli]'
	touch $(STAMP)

install: $(STAMP)

# Azurite (npm), the local Azure Storage emulator the state-store tests and the sandbox run on.
# 3.35.0 is the newest that runs on Node 20. Installed under .tools/, never deployed.
AZURITE_VERSION := 3.35.0
AZURITE_STAMP := .tools/.azurite-$(AZURITE_VERSION)-stamp

$(AZURITE_STAMP):
	npm install --prefix .tools azurite@$(AZURITE_VERSION) --no-audit --no-fund
	touch $(AZURITE_STAMP)

azurite: $(AZURITE_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

test: lint typecheck azurite
	$(BIN)/pytest -q

demo: install azurite
	$(BIN)/lx sandbox demo

up: install azurite
	$(BIN)/lx sandbox up $(if $(PORT),--port $(PORT)) $(if $(HOST_PORT),--host-port $(HOST_PORT))

bench: install azurite
	$(BIN)/python -m bench

# Offline infrastructure checks: Bicep syntax and project rules (pycep), policy (checkov, in its
# own .venv-checkov because it pins an older pycep). No Azure access needed.
iac: install
	$(BIN)/pytest tests/infra -q

checkov: iac
	.venv-checkov/bin/checkov -d infra/azure --framework bicep --skip-download --config-file .checkov.yaml --compact

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache .sandbox
