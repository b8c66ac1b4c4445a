# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: run test install browser clean bench translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app admin_app run --host 127.0.0.1 --port $(PORT)

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# The browser tests drive Debian's Chromium through its own chromedriver (nothing is downloaded at run time).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium and chromium-driver for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null; } || \
		echo "Could not install chromium: the browser tests will be skipped"; \
	else echo "chromium and chromedriver are missing (install them as root): the browser tests will be skipped"; fi

# The client space's catalogues: extract the messages, merge them into each language, compile the .mo files
# (committed, so a fresh clone runs without this step). Translate new messages in each messages.po, then run it again.
CATALOGUES := admin_app/client_space
translations: $(STAMP)
	$(BIN)/pybabel extract -F $(CATALOGUES)/babel.cfg -k _ -k gettext --no-location --omit-header -o $(CATALOGUES)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES)/translations --no-wrap
	$(BIN)/pybabel compile -d $(CATALOGUES)/translations

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) *.egg-info var/
