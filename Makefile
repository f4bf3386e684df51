# The two commands of the README: `make run` and `make test`. Each sets up what is missing.
.PHONY: setup model run test

setup:
	@bash scripts/setup.sh

# rasa train itself skips training when data, domain and config are unchanged.
model: setup
	@.venv/bin/hotro train

run: model
	@.venv/bin/hotro run --no-train

# scripts/services.sh starts PostgreSQL and Redis; with their URLs set, the tests on them
# must run (a missing service fails them instead of skipping them).
test: model
	@bash scripts/install-chromium.sh
	@bash scripts/services.sh
	@set -a && . var/test-services.env && set +a && .venv/bin/python -m pytest
