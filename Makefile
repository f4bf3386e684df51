# The two commands of the README: `make run` and `make test`. Each sets up what is missing.
.PHONY: setup model run test

setup:
	@bash scripts/setup.sh

# rasa train itself skips training when data, domain and config are unchanged.
model: setup
	@.venv/bin/hotro train

run: model
	@.venv/bin/hotro run --no-train

test: model
	@bash scripts/install-chromium.sh
	@.venv/bin/python -m pytest
