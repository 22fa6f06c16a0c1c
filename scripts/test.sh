#!/usr/bin/env bash
# Runs every test in two `swift test` runs (expects `swift build --build-tests` done):
#   1. the protocol, storage and unit suites (some measure time in seconds);
#   2. the suites that start real mail servers and server processes, which load both cores (at
#      most INTEGRATION_WIDTH, default 6, at once);
#   3. the Python client's unittest suite (Clients/Python/tests; standard library only), against
#      the built .build/debug/mailsync serving on 127.0.0.1, at most PYTHON_TEST_SECONDS (180);
#   4. the Swift client's sample app, built as an app would build it next to its own SwiftNIO
#      (scripts/check-client-sample.sh; skipped with CLIENT_SAMPLE=0);
# then a short fuzz smoke (scripts/fuzz.sh --smoke: a release build of the fuzz targets in Fuzz/
# and 20,000 executions of each; FUZZ_SMOKE_TARGETS="FuzzIMAPResponse FuzzRFC2047" limits it to
# those), skipped with FUZZ_SMOKE=0 or where libFuzzer is unavailable.
# All runs always happen. When any fails, its failures are printed again at the very end, so
# the last lines of a long log (all that a CI summary may show) name the test, the place and why.
# Exit status: 0 when all runs pass, 1 otherwise. SWIFT: the swift executable (default: swift).
set -uo pipefail
swift="${SWIFT:-swift}"
integration="MailSyncServiceTests|MailSyncMailTransportTests|MailSyncObjectStoreTests|MailSyncClusterTests"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# A test process whose cooperative pool runs nothing for 5 s appends every thread's stack here
# (Tests/TestSupport/PoolStallWatchdog.swift); a failed run prints the code those stacks name.
export MAILSYNC_STALL_LOG="$logs/stalls"

run() {  # run NAME ARGS...: one swift test run, its output shown and kept in $logs/NAME
    local name="$1"; shift
    "$swift" test --skip-build "$@" 2>&1 | tee "$logs/$name"
    return "${PIPESTATUS[0]}"
}

failed=()
run unit --skip "$integration" || failed+=(unit)
# At most six integration tests at once: each starts mail servers and processes, and with them
# all at once (80 suites) the run queue of two cores passed 50, and checks that allow seconds for
# what takes milliseconds failed in CI. A variable of Swift Testing's; ignored where unknown.
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${INTEGRATION_WIDTH:-6}" \
    run integration --filter "$integration" || failed+=(integration)
# The Python client: codec and frame tests, a scripted server, and real `mailsync serve` processes
# (each stopped by the suite that started it, and killed with it if the run is cut short).
python_tests="$(cd "$(dirname "$0")/.." && pwd)/Clients/Python/tests"
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    timeout --kill-after=10 "${PYTHON_TEST_SECONDS:-180}" \
        python3 -m unittest discover -v -s "$python_tests" -t "$python_tests" 2>&1 | tee "$logs/python"
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(python)
else
    echo "error: the Python client's tests need python3 3.11 or newer" | tee "$logs/python"
    failed+=(python)
fi
if [ "${CLIENT_SAMPLE:-1}" != 0 ]; then
    SWIFT="$swift" "$(dirname "$0")/check-client-sample.sh" 2>&1 | tee "$logs/client-sample"
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(client-sample)
fi
if [ "${FUZZ_SMOKE:-1}" != 0 ]; then
    # shellcheck disable=SC2086  # FUZZ_SMOKE_TARGETS is a list of names (default: every target)
    SWIFT="$swift" "$(dirname "$0")/fuzz.sh" --smoke ${FUZZ_SMOKE_TARGETS:-} 2>&1 | tee "$logs/fuzz-smoke"
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(fuzz-smoke)
fi

# Printed whether or not the runs failed: a stall that did not fail a test this time may next time.
if [ -s "$logs/stalls" ]; then
    echo "==== the cooperative pool stalled; the project's code on the stacks then (count, place): ===="
    grep -E '^==== pool stall' "$logs/stalls"
    grep -oE ' at /[^ ]*/(Tests|Sources)/[^ ]+:[0-9]+' "$logs/stalls" | grep -v PoolStallWatchdog \
        | sed -E 's#^ at .*/(Tests|Sources)/#\1/#' | sort | uniq -c | sort -rn | head -40
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo
    for name in "${failed[@]}"; do
        echo "==== the $name run failed; its failures, repeated from above: ===="
        grep -E -A3 '^✘ |Fatal error|unexpected signal|error: |ERROR: libFuzzer|^==== fuzzing found|^(FAIL|ERROR): |^Traceback' "$logs/$name" | head -200
    done
    exit 1
fi
