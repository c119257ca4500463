#!/usr/bin/env bash
# Run the linters and the whole test suite. PostgreSQL tests run when OPSBRAIN_TEST_POSTGRES_URL
# is set (.ci/run starts a server and sets it); otherwise they are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
# pytest exits 5 when a selection holds no test; that is not a failure of the suite.
if [ "$status" -eq 5 ]; then status=0; fi
exit "$status"
