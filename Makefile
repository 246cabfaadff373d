# jalerte: `make run` sets everything up and starts the bot; `make test` runs every test.
# Every install goes through constraints.txt so nothing drifts past Rasa 3.6's pins.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL ?= models/nlu.tar.gz
# Python 3.10 (Rasa 3.6's limit), found through pyenv's .python-version when available.
PYTHON310 := $(shell (pyenv which python 2>/dev/null) || command -v python3.10 || echo python3.10)
NLU_SOURCES := $(wildcard nlu/data/*.yml) nlu/config.yml nlu/lexicon.yml nlu/taxonomy.yml \
	nlu/training.py

.PHONY: run chat test train eval bench install clean

run: $(MODEL)
	$(BIN)/jalerte db upgrade
	$(BIN)/jalerte run

chat: $(MODEL)
	$(BIN)/jalerte chat

test: $(STAMP)
	$(BIN)/python -m pytest -q

train: $(STAMP)
	$(BIN)/jalerte train --model $(MODEL)

eval: $(MODEL)
	$(BIN)/jalerte nlu eval

bench: $(MODEL)
	$(BIN)/python bench/nlu_bench.py
	$(BIN)/python bench/dialogue_turns.py
	$(BIN)/python bench/nlu_service.py
	$(BIN)/python bench/people.py

install: $(STAMP)

$(STAMP): constraints.txt pyproject.toml .python-version
	@$(PYTHON310) -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version' \
		|| { echo "Python 3.10 is required (pyenv install 3.10.13)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt pip setuptools wheel
	$(BIN)/pip install -q -c constraints.txt --no-build-isolation -e ".[dev]"
	touch $@

$(MODEL): $(STAMP) $(NLU_SOURCES)
	$(BIN)/jalerte train --model $(MODEL)

clean:
	rm -rf build models results
