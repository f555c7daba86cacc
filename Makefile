# The two commands the README opens with:
#   make run   — DynamoDB Local + demo data + the API on http://127.0.0.1:8000
#   make test  — the whole suite (unit, API, integration on DynamoDB Local)
# Both set everything up themselves on a fresh machine.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov (the infrastructure scanner the suite runs on the packaged templates) lives in a venv of
# its own: its pins (boto3==1.35.49, networkx<2.7, packaging<24) would downgrade the project's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: run test test-slow lint format setup clean token package checkov bench bench-quick docs

$(STAMP): pyproject.toml requirements.txt package.json package-lock.json
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

$(CHECKOV_STAMP): infra/checkov-requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PY) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --requirement infra/checkov-requirements.txt
	touch $(CHECKOV_STAMP)

setup: $(STAMP) $(CHECKOV_STAMP)

run: $(STAMP)
	$(BIN)/python -m scripts.run_local

# The whole suite but the tests marked slow (the long seeded simulation and property runs), which
# `make test-slow` runs; the lint checks first. On every core (pytest-xdist): each worker starts its
# own DynamoDB Local and names its tables per test; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: $(STAMP) $(CHECKOV_STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# ruff (lint rules and formatting) and mypy on the code, with the settings in pyproject.toml.
# `make format` rewrites the files the format check refuses, and applies ruff's safe fixes.
LINTED := chalicelib app.py infra scripts
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy $(LINTED)

format: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

# docs/configuration.md, generated from the settings model and .chalice/config.json, and docs/api.md,
# generated from the API's OpenAPI document (GET /openapi.json); a test checks each is current.
docs: $(STAMP)
	$(BIN)/python -m scripts.gen_config_docs
	$(BIN)/python -m scripts.gen_api_docs

# make package STAGE=prod — the CloudFormation template for one stage, offline (docs/deploy.md).
STAGE ?= dev
package: $(STAMP)
	$(BIN)/python -m infra.package --stage $(STAGE) --out build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/package/sam.json

# make checkov STAGE=prod — the infrastructure scan the suite runs, with the skips (and their reasons)
# recorded in infra/.checkov.yaml.
checkov: package $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --config-file infra/.checkov.yaml -f build/$(STAGE)/package/sam.json

# Benchmarks against DynamoDB Local (docs/performance.md): figures and a final `BENCH {json}` line;
# the report goes to bench/reports/. bench-quick: about a minute on 2 quiet cores, plus the contention
# benchmark's modelled-time run (docs/performance.md, section 7).
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

# The long runs `make test` skips: the seeded simulation (2,000 histories with injected faults) and
# the long property runs.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -s $(PYTEST_ARGS)

# make token ROLE=partner PARTNER=P-ALICE   (admin and finance tokens name a person: SUB=fin-1)
token: $(STAMP)
	$(BIN)/python -m scripts.cli mint-token --role $(ROLE) $(if $(PARTNER),--partner-id $(PARTNER),) $(if $(SUB),--subject $(SUB),)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .hypothesis .mypy_cache .ruff_cache build
