#!/usr/bin/env bash
# Runs every fuzz target of the fuzz preset (libFuzzer + ASan + UBSan) for a
# fixed number of executions, one after another, one worker each, growing
# build/fuzz/corpus-<target>/ (kept out of git). Prints one line per target:
# executions, exec/s, units added, and the verdict.
#
#   fuzz/run_all.sh [runs] [target...]     (default: 10000000 runs, all targets)
#
# Builds the fuzz preset first. Logs: build/fuzz/logs/<target>.log; a finding
# is saved as build/fuzz/artifacts/<target>-crash-<sha1> (see README.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/fuzz"
runs=${1:-10000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_address_text fuzz_address_binary fuzz_encapsulation fuzz_datagram
           fuzz_nd_options fuzz_icmpv6_echo fuzz_frame
           fuzz_server_state fuzz_relay_state fuzz_client_state)
fi

cd "$root"
[ -f "$build/CMakeCache.txt" ] || cmake --preset fuzz >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target teredo_fuzz_make_seeds teredo_fuzz_pcap_seeds "${targets[@]}"
# The generated and capture seeds, as CTest makes them.
"$build/fuzz/teredo_fuzz_make_seeds" "$build/fuzz/seeds" >/dev/null
pcaps=$(sed -n 's/^TEREDO_PUBLIC_PCAPS:PATH=//p' "$build/CMakeCache.txt")
"$build/fuzz/teredo_fuzz_pcap_seeds" "${pcaps:-/nonexistent}" "$build/fuzz/pcap-seeds" >/dev/null
mkdir -p "$build/logs" "$build/artifacts"

status=0
printf '%-22s %12s %10s %8s  %s\n' target execs exec/s new result
for t in "${targets[@]}"; do
  corpus="$build/corpus-$t"
  mkdir -p "$corpus"
  seeds=("$root/fuzz/corpus/$t" "$build/fuzz/seeds/$t")
  [ -d "$build/fuzz/pcap-seeds/$t" ] && seeds+=("$build/fuzz/pcap-seeds/$t")
  log="$build/logs/$t.log"
  result=ok
  "$build/fuzz/$t" -runs="$runs" -timeout=10 -print_final_stats=1 \
      -dict="$root/fuzz/dict/$t.dict" -artifact_prefix="$build/artifacts/$t-" \
      "$corpus" "${seeds[@]}" >"$log" 2>&1 || { result="FINDING (see $log)"; status=1; }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  printf '%-22s %12s %10s %8s  %s\n' "$t" "${execs:--}" "${rate:--}" "${added:--}" "$result"
done
exit $status
