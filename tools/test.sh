#!/usr/bin/env bash
# The test command (`make test`): every test, in two phases on this machine's cores.
#   1. everything not marked `timed`, side by side (pytest-xdist, CITADEL_TEST_WORKERS workers, default 2):
#      these tests wait on processes, alerts and windows far more than they compute;
#   2. the `timed` tests, one at a time, after the first phase: they measure time or resources, and a test
#      beside them would be measured too.
# Both phases always run; the exit code is the first failing phase's (5, "no tests", counts as success,
# for PYTEST_ARGS that select tests of one phase only).
set -uo pipefail
cd "$(dirname "$0")/.."
workers=${CITADEL_TEST_WORKERS:-2}
read -r -a extra <<< "${PYTEST_ARGS:-}"
started=$SECONDS
.venv/bin/python -m pytest -m "not timed" -n "$workers" --dist load --durations=25 "${extra[@]}"
first=$?
.venv/bin/python -m pytest -m "timed" --durations=25 "${extra[@]}"
second=$?
echo "[test] both phases took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
for code in $first $second; do
  if [ "$code" -ne 0 ] && [ "$code" -ne 5 ]; then exit "$code"; fi
done
exit 0
