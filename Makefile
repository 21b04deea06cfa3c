# lx-functions: every target creates its own .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install azurite adaptivecards lint typecheck test unit demo up bench storm iac checkov clean

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

# adaptivecards (npm), the official Adaptive Cards library the tests check Teams cards against
# (tests/support/adaptivecards.py). Pinned with its lock file in tests/tools/adaptivecards/, both
# copied to .tools/adaptivecards-validator/ and installed there, never deployed. Peer dependencies
# (swiper) are left out: the library's dist/ bundle, which the validator loads, contains them.
ADAPTIVECARDS_VERSION := 3.0.6
ADAPTIVECARDS_SRC := tests/tools/adaptivecards
ADAPTIVECARDS_DIR := .tools/adaptivecards-validator
ADAPTIVECARDS_STAMP := .tools/.adaptivecards-$(ADAPTIVECARDS_VERSION)-stamp

$(ADAPTIVECARDS_STAMP): $(ADAPTIVECARDS_SRC)/package.json $(ADAPTIVECARDS_SRC)/package-lock.json
	mkdir -p $(ADAPTIVECARDS_DIR)
	cp $(ADAPTIVECARDS_SRC)/package.json $(ADAPTIVECARDS_SRC)/package-lock.json $(ADAPTIVECARDS_DIR)/
	npm ci --prefix $(ADAPTIVECARDS_DIR) --no-audit --no-fund --ignore-scripts --omit=peer
	touch $(ADAPTIVECARDS_STAMP)

adaptivecards: $(ADAPTIVECARDS_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install adaptivecards
	$(BIN)/pytest tests/unit -q

# The reliability scenarios wait on paces and redeliveries, not on the CPU, so they run beside the
# rest of the suite in a second pytest process; their output follows the main run's.
test: lint typecheck azurite adaptivecards
	@mkdir -p .sandbox
	@$(BIN)/pytest -q -p no:cacheprovider tests/reliability > .sandbox/test-reliability.log 2>&1 & \
	  reliability=$$!; \
	  $(BIN)/pytest -q --ignore=tests/reliability; main=$$?; \
	  wait $$reliability; beside=$$?; \
	  echo; echo "tests/reliability (beside the run above; log: .sandbox/test-reliability.log):"; \
	  cat .sandbox/test-reliability.log; \
	  exit $$(( main || beside ))

demo: install azurite
	$(BIN)/lx sandbox demo

up: install azurite
	$(BIN)/lx sandbox up $(if $(PORT),--port $(PORT)) $(if $(HOST_PORT),--host-port $(HOST_PORT))

bench: install azurite
	$(BIN)/python -m bench

# Full-size reliability runs (about 13 minutes, not part of `make test`), side by side: the storm
# (1,000 edits on 3,000 Applications) and the 60 s outage, each with its own stack, printing one
# figures table; then the Integration API storm (150 s of connector timers from 6 hosts under
# faults, 12 hosts killed); meanwhile 5,000 fuzzed webhook requests against a third stack.
FUZZ_EXAMPLES ?= 5000
storm: install azurite
	@mkdir -p .sandbox
	@LX_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -s tests/reliability/test_fuzz_webhook.py \
	    > .sandbox/storm-fuzz.log 2>&1 & fuzz=$$!; \
	  $(BIN)/python -m tests.reliability.storm; storm=$$?; \
	  $(BIN)/pytest -q -s -m storm tests/reliability/test_integration_storm.py; integration=$$?; \
	  wait $$fuzz; fuzzed=$$?; \
	  echo; echo "fuzz (log: .sandbox/storm-fuzz.log):"; \
	  grep -E "^fuzz:|[0-9]+ (passed|failed)|Falsifying|^E " .sandbox/storm-fuzz.log | tail -n 30; \
	  test $$storm -eq 0 && test $$integration -eq 0 && test $$fuzzed -eq 0

# Offline infrastructure checks: Bicep syntax and project rules (pycep), policy (checkov, in its
# own .venv-checkov because it pins an older pycep). No Azure access needed.
iac: install
	$(BIN)/pytest tests/infra -q

checkov: iac
	.venv-checkov/bin/checkov -d infra/azure --framework bicep --skip-download --config-file .checkov.yaml --compact

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache .sandbox
