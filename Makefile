# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.installed-bench
CHROMIUM := /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test fuzz lint format migrate demo clean bench bench-argon2 bench-import bench-load bench-scale

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@touch $@

install: $(INSTALLED)

## Serve the portal with the demo school on http://127.0.0.1:8000, with the mail worker
## beside it (every e-mail is printed here and kept under var/mail/) and the demo publisher
## on http://127.0.0.1:8001 (Rekenrups, which signs pupils in through the portal).
run: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@$(PY) manage.py mail_worker --interval 2 & worker=$$!; \
	$(PY) -m demo_publisher --port 8001 & publisher=$$!; \
	trap 'kill $$worker $$publisher 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## The full test suite (SQLite, or the database DATABASE_URL names)
test: $(INSTALLED) $(CHROMIUM)
	$(PY) -m pytest $(PYTEST_ARGS)

## Property-based fuzzing of every form and upload with thousands of random inputs per test
## (tests/fuzz, Hypothesis profile "fuzz"; `make test` runs the same tests quickly); a long
## run: failing inputs are kept under var/hypothesis/examples/ and tried first next time
fuzz: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Chromium at $(CHROMIUM) for the browser tests."; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## What one Argon2id verification costs on this machine (passwords and PINs)
bench-argon2: $(INSTALLED)
	$(PY) -m bench.argon2_cost

## How fast the school-data import is for 1,000 and 8,000 pupils, and whether its query
## count stays flat (a throwaway SQLite database; `$(PY) -m bench.import_speed --postgres`
## for PostgreSQL)
bench-import: $(INSTALLED)
	$(PY) -m bench.import_speed

## The home flow under load: gunicorn with production settings on a throwaway PostgreSQL
## database (DATABASE_URL's server, else 127.0.0.1:5432), driven by Locust; about three
## minutes; prints a table and writes bench/results.json (see bench/README.md)
bench-load: $(BENCH_INSTALLED)
	$(PY) -m bench.load $(BENCH_LOAD_ARGS)

## The hot pages (tiles, PIN check, software) at 10,000 and at 1,000,000 pupils: latency,
## queries per request and their query plans, on a throwaway PostgreSQL database
## (DATABASE_URL's server, else 127.0.0.1:5432); about two minutes on a quiet machine, most
## of it seeding; not part of `bench`
bench-scale: $(INSTALLED)
	$(PY) -m bench.scale $(BENCH_SCALE_ARGS)

# Locust, for bench-load only (the optional dependency group "bench").
$(BENCH_INSTALLED): $(INSTALLED)
	$(PY) -m pip install --quiet ".[bench]"
	@touch $@

## All benchmarks
bench: bench-argon2 bench-import bench-load

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: $(INSTALLED)
	$(PY) manage.py migrate --noinput

demo: $(INSTALLED)
	$(PY) manage.py seed_demo

clean:
	rm -rf $(VENV) var
