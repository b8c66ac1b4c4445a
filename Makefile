# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: run test install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app admin_app run --host 127.0.0.1 --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) *.egg-info var/
