#!/usr/bin/env bash
# The test command (`make test`): every test, in three phases on this machine's cores.
#   1. everything not marked `timed` or `soak`, side by side (pytest-xdist, CITADEL_TEST_WORKERS workers, default 3):
#      these tests wait on processes, alerts and windows far more than they compute;
#   2. the `soak` tests (three stability runs of 40 s), side by side with each other and nothing else: each applies
#      a light, steady load, and a heavier neighbour would move the latency drift and health checks they judge
#      (side by side until 2026-12-06 their first windows' p95 rose to 2-6 s: every embedding of the three stacks'
#      llama.cpp spun a second thread on two cores; with one thread, 0.3-1.5 s, as alone);
#   3. the `timed` tests, one at a time: they measure time or resources, and a test beside them would be measured too.
# Every phase always runs; the exit code is the first failing phase's (5, "no tests", counts as success,
# for PYTEST_ARGS that select tests of some phases only).
set -uo pipefail
cd "$(dirname "$0")/.."
workers=${CITADEL_TEST_WORKERS:-3}
eval "extra=(${PYTEST_ARGS:-})"  # the caller's own options, quotes as a shell reads them (e.g. -k 'journey and not x')
for option in "${extra[@]}"; do
  if [ "$option" = "-m" ] || [[ "$option" == -m?* ]]; then
    echo "[test] PYTEST_ARGS may not select by marker (-m): each phase selects its own (not timed/soak, soak, timed)." >&2
    echo "[test] Select with -k, or run pytest directly, e.g. .venv/bin/python -m pytest -m 'not slow' for the fast tests." >&2
    exit 2
  fi
done
started=$SECONDS
timings=reports/test-timings  # each phase's JUnit XML: every test's duration, for docs/measurements.md
mkdir -p "$timings"
phase() {  # name, then pytest's arguments; prints the phase's time
  local name=$1 begun=$SECONDS code
  shift
  .venv/bin/python -m pytest "$@" --junit-xml="$timings/${name// /-}.xml" "${extra[@]}"
  code=$?
  echo "[test] $name: exit $code in $(( (SECONDS - begun) / 60 )) min $(( (SECONDS - begun) % 60 )) s"
  return $code
}
phase "side by side" -m "not timed and not soak" -n "$workers" --dist loadgroup --durations=25
first=$?
phase "stability runs" -m "soak" -n 3 --durations=5
second=$?
phase "timed, alone" -m "timed" --durations=25
third=$?
echo "[test] all phases took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
for code in $first $second $third; do
  if [ "$code" -ne 0 ] && [ "$code" -ne 5 ]; then exit "$code"; fi
done
exit 0
