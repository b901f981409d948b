# The two commands of the README: `make run` (the whole site on this machine) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_PORT ?= 8000

# The test suite runs against the real services on loopback (see README, Testing).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test install install-dev lock services browser css bench clean

$(BIN)/python:
	@# Debian ships venv separately (python3-venv); install it when a fresh machine lacks it.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

## run: create the venv, install, start the embedded PostgreSQL under var/postgres/ (unless
## DATABASE_URL is set), migrate, load content and demo data, then serve web + worker + beat.
## Ctrl-C (or SIGTERM to make) stops them all, the embedded PostgreSQL last; its data stay.
run: install
	export DEBUG=$${DEBUG:-1} PATH="$(abspath $(BIN)):$$PATH" WEB_PORT=$(WEB_PORT); \
	exec python -m clinic.embedded_db run -- bash -c \
	  'python manage.py migrate --noinput && python manage.py load_demo && exec honcho --procfile Procfile.dev start'

## lock: recompile the pinned requirements*.txt from requirements*.in (keeps the current pins
## unless an .in file asks otherwise; `make lock LOCK_ARGS=--upgrade` moves everything forward).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras --newline=lf \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS) -o requirements.txt requirements.in
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras --newline=lf \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS) -o requirements-dev.txt requirements-dev.in

## services: start PostgreSQL and Redis on loopback if they are down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 1; done; \
	echo "PostgreSQL or Redis did not come up on 127.0.0.1" >&2; exit 1

## browser: Debian's Chromium for Playwright, and axe-core and ical.js (pinned in package-lock.json) from npm.
browser: node_modules/.package-lock.json
	@[ -x /usr/bin/chromium ] || { echo "Installing Debian's chromium (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing npm (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## css: rebuild static/css/bootstrap-subset.css, the Bootstrap rules the markup uses (PurgeCSS from
## npm; the output is committed, so `make run` needs Python only). Run it after changing templates.
css: install node_modules/.package-lock.json
	$(BIN)/python -m clinic.stylesheet

## test: install what the suite needs, start the services, run everything on PostgreSQL and Redis.
test: install-dev services browser
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -n 2 $(PYTEST_ARGS)

## bench: run every benchmark under bench/ (prints figures; asserts nothing; bench/_*.py are helpers).
bench: install-dev services browser
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var node_modules .pytest_cache
