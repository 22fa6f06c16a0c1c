#!/usr/bin/env bash
# Runs every test in two `swift test` runs (expects `swift build --build-tests` done):
#   1. the protocol, storage and unit suites (some measure time in seconds);
#   2. the suites that start real mail servers and server processes, which load both cores.
# Both runs always happen. When either fails, its failures are printed again at the very end, so
# the last lines of a long log (all that a CI summary may show) name the test, the place and why.
# Exit status: 0 when both runs pass, 1 otherwise. SWIFT: the swift executable (default: swift).
set -uo pipefail
swift="${SWIFT:-swift}"
integration="MailSyncServiceTests|MailSyncMailTransportTests"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

run() {  # run NAME ARGS...: one swift test run, its output shown and kept in $logs/NAME
    local name="$1"; shift
    "$swift" test --skip-build "$@" 2>&1 | tee "$logs/$name"
    return "${PIPESTATUS[0]}"
}

failed=()
run unit --skip "$integration" || failed+=(unit)
run integration --filter "$integration" || failed+=(integration)

if [ "${#failed[@]}" -gt 0 ]; then
    echo
    for name in "${failed[@]}"; do
        echo "==== the $name run failed; its failures, repeated from above: ===="
        grep -E -A3 '^✘ |Fatal error|unexpected signal|error: ' "$logs/$name" | head -200
    done
    exit 1
fi
