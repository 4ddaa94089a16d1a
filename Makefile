# Shortcuts for the scripts; the scripts are the source of truth.
.PHONY: setup up test test-sqlite test-pg lint format check pg-start pg-stop vendor

setup:
	bash scripts/setup.sh

up:
	bash scripts/up.sh

test:
	bash scripts/test.sh

test-sqlite:
	bash scripts/test.sh --sqlite-only

test-pg:
	bash scripts/test.sh --pg-only

lint:
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

check:
	.venv/bin/guanxi check

pg-start:
	@bash scripts/pg.sh start

pg-stop:
	bash scripts/pg.sh stop

vendor:
	.venv/bin/python scripts/vendor.py
