#!/usr/bin/env bash
# Set everything up and run the main job: the opsbrain server on the embedded demo data.
# The demo warehouse is generated on first start (data/demo.duckdb, about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/opsbrain up "$@"
