# Mediation Hub — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers (each with a database of its own); 0 runs the suite in one process
TEST_WORKERS ?= 2
export FLASK_APP := mediation_hub:create_app

.PHONY: run test test-fast test-browser test-sqlite test-postgres typecheck lint install install-dev bench bench-quick \
  load clean translations fonts wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## fonts: the documents' typeface (documents/render.py embeds Noto CJK in every PDF): Debian's fonts-noto-cjk,
## installed here when missing and this is root on Debian; elsewhere say how (the hub answers 503 without it).
fonts:
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing fonts-noto-cjk (the documents' typeface)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  else echo "documents need a CJK font: sudo apt-get install fonts-noto-cjk (or fonts-wqy-zenhei)" >&2; fi; }

## wrk: the HTTP load generator of the benchmarks (bench/wrk.py): Debian's wrk, installed here when missing and
## this is root on Debian; elsewhere say how.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing wrk (the benchmarks' HTTP load generator)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "the benchmarks need wrk: sudo apt-get install wrk" >&2; exit 1; fi; }

install: $(STAMP)
install-dev: $(DEV_STAMP)

## make run: install, migrate the SQLite database under instance/, load reference and demo data, serve.
run: $(STAMP) fonts
	$(BIN)/mediation-hub db upgrade
	$(BIN)/mediation-hub seed reference
	$(BIN)/mediation-hub seed demo
	@echo "Mediation Hub on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"
	MEDIATION_HUB_SCHEDULER_ENABLED=$${MEDIATION_HUB_SCHEDULER_ENABLED:-true} \
	  $(BIN)/mediation-hub run --host $(HOST) --port $(PORT)

## make test: install with the dev extra and run the suite on SQLite, then on PostgreSQL when
## MEDIATION_HUB_TEST_DATABASE_URL is set.
ON_SQLITE := env -u MEDIATION_HUB_TEST_DATABASE_URL $(BIN)/python -m pytest -n $(TEST_WORKERS)
test: $(DEV_STAMP) fonts
	$(ON_SQLITE) -m "not postgres"
	@if [ -n "$$MEDIATION_HUB_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$MEDIATION_HUB_TEST_DATABASE_URL)"; \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" ; \
	elif [ -n "$$CI" ]; then \
	  echo "CI is set but MEDIATION_HUB_TEST_DATABASE_URL is not: PostgreSQL tests cannot be skipped" >&2; exit 1; \
	fi

## make test-fast: the unit and service tests on SQLite, in under a minute on two cores: no browser, no PostgreSQL,
## nothing marked load or slow (load and fault runs, API fuzzing, benchmark smoke runs, sweeps of every page).
test-fast: $(DEV_STAMP) fonts
	$(ON_SQLITE) -m "not browser and not postgres and not load and not slow"

## make test-browser: the browser tests (Debian's Chromium through Playwright) on SQLite.
test-browser: $(DEV_STAMP) fonts
	$(ON_SQLITE) -m browser

## make test-sqlite: the whole suite on SQLite, the first half of `make test`.
test-sqlite: $(DEV_STAMP) fonts
	$(ON_SQLITE) -m "not postgres"

## make test-postgres: the suite on PostgreSQL, the second half of `make test`, at MEDIATION_HUB_TEST_DATABASE_URL;
## without it, on a database made for the run on PG_HOST:PG_PORT as PG_USER (createdb), dropped afterwards with the
## ones each pytest-xdist worker made from it.
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_USER ?= postgres
PG := -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER)
test-postgres: $(DEV_STAMP) fonts
	@if [ -n "$$MEDIATION_HUB_TEST_DATABASE_URL" ]; then \
	  exec $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"; \
	fi; \
	if ! pg_isready $(PG) -q; then \
	  echo "make test-postgres: set MEDIATION_HUB_TEST_DATABASE_URL, or start PostgreSQL on $(PG_HOST):$(PG_PORT)" \
	    "(user $(PG_USER))" >&2; \
	  exit 1; \
	fi; \
	db=mediation_hub_make_$$$$; \
	drop() { for name in $$(psql $(PG) -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE '$$db%'"); \
	  do dropdb $(PG) --if-exists --force "$$name"; done; }; \
	createdb $(PG) "$$db" || exit 1; \
	trap drop EXIT; \
	echo "== on PostgreSQL, database $$db (dropped afterwards)"; \
	MEDIATION_HUB_TEST_DATABASE_URL="postgresql+psycopg://$(PG_USER)@$(PG_HOST):$(PG_PORT)/$$db" \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"

## make typecheck: mypy over the files and strictness [tool.mypy] in pyproject.toml names.
typecheck: $(DEV_STAMP)
	$(BIN)/mypy

## make lint: ruff's rules, ruff's format (checked, not applied: `ruff format .` applies it) and the layer contracts
## of [tool.importlinter] (lint-imports).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

## make translations: re-extract the UI texts (Chinese source strings), merge them into the English
## catalogue and compile it; translate any new empty msgstr in translations/en/LC_MESSAGES/messages.po.
I18N := mediation_hub/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F $(I18N)/babel.cfg -k _l -k N_ -k coded:2 --no-location --project "Mediation Hub" -o $(I18N)/messages.pot mediation_hub
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) -l en --width 120
	$(BIN)/pybabel compile -d $(I18N) --statistics

## make load: the full-length load and fault runs on 127.0.0.1 (docs/RESILIENCE.md): LOAD_SECONDS (60) of mixed
## traffic against gunicorn on a new PostgreSQL database, the scheduler killed between sending a report and
## recording it, and a throwaway PostgreSQL server restarted under traffic. `make test` runs them in short mode.
LOAD_SECONDS ?= 60
load: $(DEV_STAMP)
	$(BIN)/python -m bench.load.mixed_traffic --duration $(LOAD_SECONDS)
	$(BIN)/python -m bench.load.mixed_traffic --duration $(LOAD_SECONDS) --sqlite --workers 4 \
	  --mediators 12 --officers 4 --officials 4 --results bench/results/load-sqlite-$$(date +%F).md
	$(BIN)/python -m bench.faults.scheduler_kill
	$(BIN)/python -m bench.faults.postgres_restart --down 10 --after 20

## make bench: the benchmarks of docs/PERFORMANCE.md on the local PostgreSQL (databases mh_bench_1m and
## mh_bench_10m, dropped at the end; about 30 GB and an hour or more on a 2-core machine): each figure beside its
## baseline of the same run (hello-world and the bare endpoint under wrk, raw COPY, plain GROUP BY), the workers'
## memory over 100,000 mixed requests, and what one hub holds (docs/SCALE.md); tables in bench/results/.
## make bench-quick: the same at 100,000 cases (a 30,000-request memory soak): 22 minutes here (docs/PERFORMANCE.md)
## `make test` runs every benchmark in smoke mode (tests/test_bench_smoke.py).
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432
bench: $(DEV_STAMP) wrk
	$(BIN)/python -m bench.run_all --pg $(BENCH_PG)

bench-quick: $(DEV_STAMP) wrk
	$(BIN)/python -m bench.run_all --pg $(BENCH_PG) --quick

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache .mypy_cache .import_linter_cache
