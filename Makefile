# Two commands do all the set-up on a fresh machine:
#   make run    installs and starts the whole portal on embedded defaults
#   make test   installs and runs every test (Python and JavaScript)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install run test lint browser clean

# uv (pinned, from PyPI) resolves and installs in seconds where pip took minutes here.
UV_VERSION := 0.13.9
$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION) 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed

# Debian's Chromium drives the browser tests (Playwright cannot download one here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Install Chromium first: sudo apt-get install -y chromium" >&2; exit 1; fi; }

# WEB_PORT, MOTO_PORT, IDP_PORT and PORTAL_VAR_DIR move the stack (defaults 8000, 5000, 9000, var).
WEB_PORT ?= 8000
MOTO_PORT ?= 5000
export WEB_PORT MOTO_PORT
run: export PORTAL_ORIGINS ?= http://127.0.0.1:$(WEB_PORT),http://localhost:$(WEB_PORT)
run: export AWS_ENDPOINT_URL ?= http://127.0.0.1:$(MOTO_PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Upload Portal is starting: sign in at http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Consultants' admin:          http://127.0.0.1:$(WEB_PORT)/admin/"
	@echo "  Consultants set up an authenticator app (TOTP) at their first sign-in."
	@echo "  Stop everything with Ctrl-C."
	@echo
	# moto accepts any key; these keep boto3 from looking for real AWS credentials.
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN= \
	  $(BIN)/honcho start -f Procfile

# The tests talk to real services: PostgreSQL and Redis on this machine unless the
# environment names others (CI's .ci/run sets them and REQUIRE_SERVICES=1).
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_test
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/10
test: export CACHE_URL ?= rediscache://127.0.0.1:6379/11
# Two pytest-xdist workers, each with its own test database, moto, Chromium and one of the
# two Redis databases above (conftest.py); TEST_WORKERS=0 runs one process.
TEST_WORKERS ?= 2
test: install browser
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	if [ -d uploads/static/uploads/tests ]; then npm test; fi
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules var staticfiles db.sqlite3
