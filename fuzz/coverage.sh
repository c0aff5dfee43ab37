#!/usr/bin/env bash
# Line coverage of reference/wire (llvm-cov, source-based) from the unit tests
# plus the fuzz corpus, in the coverage preset (build/coverage):
#   1. ctest -L unit with LLVM_PROFILE_FILE set (whatever unit-labelled tests
#      exist; the profiles of the fuzz_* seed replays among them are set aside);
#   2. every fuzz target, built there with replay_main.cpp, over its corpus:
#      fuzz/corpus/<t>, the generated and capture seeds in build/coverage/fuzz,
#      and the grown corpus build/fuzz/corpus-<t> when it exists;
#   3. llvm-profdata merge, then llvm-cov report restricted to reference/wire.
# Prints the report and the line coverage of reference/wire for the unit tests
# alone, the fuzz corpus alone, and both.
#
#   fuzz/coverage.sh
# Environment: JOBS (build jobs, default 2), LLVM_PROFDATA / LLVM_COV (tools
# matching clang, default llvm-profdata / llvm-cov), FUZZ_CORPUS_ROOT (where
# corpus-<t>/ are, default build/fuzz). HTML: build/coverage/coverage-html/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/coverage"
profdata_tool=${LLVM_PROFDATA:-llvm-profdata}
cov_tool=${LLVM_COV:-llvm-cov}
corpus_root=${FUZZ_CORPUS_ROOT:-$root/build/fuzz}
targets=(fuzz_address_text fuzz_address_binary fuzz_encapsulation fuzz_datagram
         fuzz_nd_options fuzz_icmpv6_echo fuzz_frame)

cd "$root"
[ -f "$build/CMakeCache.txt" ] || cmake --preset coverage >/dev/null
# Build all that builds (-k 0): a broken test elsewhere must not hide the
# coverage of the rest; the fuzz targets themselves are required.
cmake --build "$build" -j "${JOBS:-2}" -- -k 0 >"$build/coverage-build.log" 2>&1 ||
  echo "warning: part of the coverage build failed (see $build/coverage-build.log)" >&2
cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]}" >/dev/null

prof="$build/profiles"
rm -rf "$prof"
mkdir -p "$prof/unit" "$prof/fuzz"

# 1. Unit tests: every unit-labelled test. The fuzz_* ones (seed generation
#    and seed replays) run too, but their profiles are set aside: step 2
#    replays the same seeds, so "fuzz corpus alone" stays apart from the tests.
unit_count=$(ctest --test-dir "$build" -L unit -E '^fuzz_' --show-only=json-v1 | jq '.tests | length')
unit_result=passed
LLVM_PROFILE_FILE="$prof/unit/%p-%m.profraw" \
  ctest --test-dir "$build" -L unit -E '^fuzz_' --output-on-failure >"$build/coverage-unit.log" 2>&1 ||
  unit_result="FAILED (see $build/coverage-unit.log)"
LLVM_PROFILE_FILE="$prof/set-aside/%p-%m.profraw" \
  ctest --test-dir "$build" -L unit -R '^fuzz_' --output-on-failure >"$build/coverage-fuzz-replay.log" 2>&1 ||
  unit_result="$unit_result; fuzz replays FAILED (see $build/coverage-fuzz-replay.log)"
objects=()
while IFS= read -r exe; do
  objects+=("$exe")
done < <(ctest --test-dir "$build" -L unit -E '^fuzz_' --show-only=json-v1 | jq -r '.tests[].command[0] // empty' | sort -u)

# 2. The fuzz corpus through the replay builds of the targets.
corpus_files=0
for t in "${targets[@]}"; do
  dirs=()
  for d in "$root/fuzz/corpus/$t" "$build/fuzz/seeds/$t" "$build/fuzz/pcap-seeds/$t" "$corpus_root/corpus-$t"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  corpus_files=$((corpus_files + $(find "${dirs[@]}" -type f | wc -l)))
  LLVM_PROFILE_FILE="$prof/fuzz/$t-%p.profraw" "$build/fuzz/$t" "${dirs[@]}" >/dev/null
  objects+=("$build/fuzz/$t")
done

# Only instrumented executables of this build can be given to llvm-cov.
instrumented=()
for exe in "${objects[@]}"; do
  [ -x "$exe" ] && [[ "$exe" == "$build"/* ]] && LC_ALL=C grep -q __llvm_covmap "$exe" && instrumented+=("$exe")
done
object_args=("${instrumented[0]}")
for exe in "${instrumented[@]:1}"; do object_args+=("-object=$exe"); done

sources=("$root/reference/wire/src" "$root/reference/wire/include")
# "N functions have mismatched data" is benign here: an inline function that a
# binary does not use is recorded there with hash 0, while the binaries that
# run it have the real record; the lines are counted from those.
quiet() { "$@" 2> >(grep -v 'functions have mismatched data' | grep -v '^.\[0m$' >&2); }
line_percent() {  # profdata -> "NN.NN% (covered/total lines)"
  quiet "$cov_tool" export -summary-only -instr-profile="$1" "${object_args[@]}" "${sources[@]}" |
    jq -r '.data[0].totals.lines | "\(.percent * 100 | round / 100)% (\(.covered)/\(.count) lines)"'
}

if compgen -G "$prof/unit/*.profraw" >/dev/null; then
  "$profdata_tool" merge -sparse "$prof"/unit/*.profraw -o "$build/unit.profdata"
else
  "$profdata_tool" merge -sparse -o "$build/unit.profdata"  # no unit tests yet: an empty profile
fi
"$profdata_tool" merge -sparse "$prof"/fuzz/*.profraw -o "$build/fuzz.profdata"
"$profdata_tool" merge -sparse "$build/unit.profdata" "$build/fuzz.profdata" -o "$build/coverage.profdata"

quiet "$cov_tool" report -instr-profile="$build/coverage.profdata" "${object_args[@]}" "${sources[@]}"
quiet "$cov_tool" show -format=html -output-dir="$build/coverage-html" \
  -instr-profile="$build/coverage.profdata" "${object_args[@]}" "${sources[@]}" >/dev/null

echo
echo "unit tests: $unit_count unit-labelled tests (fuzz_* replays aside), $unit_result"
echo "fuzz corpus: $corpus_files inputs over ${#targets[@]} targets"
echo "reference/wire line coverage, unit tests alone:  $(line_percent "$build/unit.profdata")"
echo "reference/wire line coverage, fuzz corpus alone: $(line_percent "$build/fuzz.profdata")"
echo "reference/wire line coverage, unit + fuzz:       $(line_percent "$build/coverage.profdata")"
