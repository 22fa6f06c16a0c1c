#!/usr/bin/env bash
# Builds the libFuzzer targets of the nested package Fuzz/ and runs them (Linux; docs/fuzzing.md).
#
#   scripts/fuzz.sh [--smoke] [--build-only] [TARGET...]     (default: every target)
#
# Campaign (default): each target in turn for FUZZ_RUNS executions (default 10000000) or, when
# FUZZ_TIME is set, FUZZ_TIME seconds. New inputs go to Fuzz/.build/corpus/TARGET (kept between
# runs, never committed); the seeds in Fuzz/Corpus/TARGET and the kept crashers in
# Fuzz/Crashers/TARGET are read, never written.
# Smoke (--smoke, run by scripts/test.sh): each target, built debug, for FUZZ_SMOKE_RUNS executions
# (default 20000) from its seeds, with a throwaway corpus.
# Every run: -rss_limit_mb=2048 -timeout=10, so an input that takes more than 2 GB or 10 s counts
# as a finding, like a crash. A finding is written to Fuzz/.build/findings/TARGET/ and the script
# exits 1 (after running the other targets); keep it under Fuzz/Crashers/TARGET/ once fixed.
# Inputs are at most FUZZ_MAX_LEN bytes (default 4096; longer corpus files are cut): small inputs
# keep executions fast; a run with FUZZ_MAX_LEN=65536 now and then looks for superlinear time.
# Extra libFuzzer flags: FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
# SWIFT: the swift executable (default: swift).
set -uo pipefail
cd "$(dirname "$0")/../Fuzz"
swift="${SWIFT:-swift}"
all_targets=(FuzzIMAPResponse FuzzRFC2047 FuzzMailBodyText FuzzMailDate FuzzFetchData FuzzFrameDecoder FuzzMessageCodec FuzzSchemaParser)

smoke=0
build_only=0
targets=()
for argument in "$@"; do
    case "$argument" in
        --smoke) smoke=1 ;;
        --build-only) build_only=1 ;;
        -*) echo "fuzz.sh: unknown option $argument" >&2; exit 2 ;;
        *) targets+=("$argument") ;;
    esac
done
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")

if [ "$(uname -s)" != Linux ]; then
    echo "fuzz.sh: libFuzzer (-sanitize=fuzzer) needs the Swift toolchain for Linux; skipped on $(uname -s)." >&2
    exit 0
fi

# Campaigns build optimised (release); the smoke builds debug (FUZZ_CONFIGURATION overrides either):
# unoptimised code compiles in half the time and still runs 20,000 inputs in seconds.
if [ "$smoke" -eq 1 ]; then configuration="${FUZZ_CONFIGURATION:-debug}"; else configuration="${FUZZ_CONFIGURATION:-release}"; fi
# The nested package caches the root package's file list in its build plan; removing the plan makes
# it see files added or removed in the root since the last build (as `make bench` does).
rm -f ".build/$configuration.yaml"
# One product at a time: without --product SwiftPM would also build the root package's commands.
# Every Swift target is compiled with the fuzzer's coverage instrumentation, not only the target's
# own file, so coverage reaches into the parsers; -parse-as-library because libFuzzer has `main`.
for target in "${targets[@]}"; do
    echo "==== building $target"
    "$swift" build -c "$configuration" --product "$target" -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library || exit 1
done
[ "$build_only" -eq 0 ] || exit 0
bin="$("$swift" build -c "$configuration" --show-bin-path)"
# Swift's own crash handler would catch a trap first and exit without libFuzzer saving the input.
export SWIFT_BACKTRACE=enable=no

failed=()
for target in "${targets[@]}"; do
    findings=".build/findings/$target"
    mkdir -p "$findings"
    flags=(-rss_limit_mb=2048 -timeout=10 "-max_len=${FUZZ_MAX_LEN:-4096}" "-artifact_prefix=$findings/" -print_final_stats=1)
    [ -f "Dictionaries/$target.dict" ] && flags+=("-dict=Dictionaries/$target.dict")
    if [ "$smoke" -eq 1 ]; then
        corpus="$(mktemp -d)"
        flags+=("-runs=${FUZZ_SMOKE_RUNS:-20000}" -seed=1)
    else
        corpus=".build/corpus/$target"
        mkdir -p "$corpus"
        if [ -n "${FUZZ_TIME:-}" ]; then flags+=("-max_total_time=$FUZZ_TIME"); else flags+=("-runs=${FUZZ_RUNS:-10000000}"); fi
    fi
    inputs=("$corpus" "Corpus/$target")
    [ -d "Crashers/$target" ] && inputs+=("Crashers/$target")
    echo "==== fuzzing $target: $bin/$target ${flags[*]} ${FUZZ_FLAGS:-} ${inputs[*]}"
    # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
    "$bin/$target" "${flags[@]}" ${FUZZ_FLAGS:-} "${inputs[@]}" || failed+=("$target")
    [ "$smoke" -eq 0 ] || rm -rf "$corpus"
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo
    echo "==== fuzzing found a crash, a timeout or too much memory in: ${failed[*]}"
    echo "     the inputs are in Fuzz/.build/findings/ (see docs/fuzzing.md: reproduce, minimise, keep)"
    exit 1
fi
