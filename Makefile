# Sanad: everything a fresh machine needs, from Python 3.11 and the package registries.
#   make run    set up, then start the bot (long polling)
#   make test   set up, then lint (ruff), type-check (mypy) and test (pytest)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BABEL_KEYWORDS := -k _ -k t -k raw -k N_ -k plural:1,2 -k pgettext:1c,2 --no-default-keywords

.PHONY: setup run test lint typecheck pytest catalogs compile bench bench-pace bench-scale transcripts clean

setup: $(STAMP) compile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

compile: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages --statistics

run: setup
	$(BIN)/python -m bot run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -q

test: setup lint typecheck pytest

# Re-extract the strings of the code and the forms, and merge them into every catalog.
catalogs: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --sort-by-file \
		--project=Sanad -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching
	$(BIN)/python -m bot.catalogs fill en

bench: setup
	$(BIN)/python bench/intake.py

# Families at one action a second (and a flooder at five) against Telegram's pacing.
bench-pace: setup
	$(BIN)/python bench/pace.py

# Three years of a committee (100,000 cases, 20,000 volunteers, 2,000 tasks) in one database,
# and what start-up, the committee's commands, exports, a broadcast and retention cost on it.
bench-scale: setup
	$(BIN)/python bench/scale.py

# The main conversations in every language, as one page to review: build/transcripts.html.
transcripts: setup
	$(BIN)/python -m tests.transcripts

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo
