#!/usr/bin/env bash
# README command 1: set up this checkout (first time: a minute or two) and run Guanxi with the
# demo data on http://127.0.0.1:8000/. Options go to `guanxi serve`, e.g. --port 8080.
# Needs Python 3.11+ and Node.js 20 (npm). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
exec .venv/bin/guanxi serve --demo "$@"
