#!/usr/bin/env bash
# Run the linters and the whole test suite: the web UI's vitest tests, then pytest (which includes
# the browser end-to-end tests in tests/e2e). PostgreSQL tests run when OPSBRAIN_TEST_POSTGRES_URL
# is set and the browser tests when chromium is installed (.ci/run does both); otherwise they are
# skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# the web UI's own unit and component tests (vitest); its type check ran with the build in setup
if command -v npm >/dev/null 2>&1; then
  (cd serving/web && npx vitest run --reporter=dot)
fi
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
# pytest exits 5 when a selection holds no test; that is not a failure of the suite.
if [ "$status" -eq 5 ]; then status=0; fi
exit "$status"
