#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the harness against
# the reference implementation. Today the harness's runnable part is the codec:
# it regenerates the project's sample capture from our builders and decodes it
# (one JSON object per frame). `teredo-conform run` takes this place when the
# conformance driver lands.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
tool=build/default/conformance/teredo-conform
out=${TEREDO_OUT:-out}
mkdir -p "$out"
"$tool" samples --out "$out/teredo-lifecycle.pcap"
cmp -s "$out/teredo-lifecycle.pcap" pcaps/teredo-lifecycle.pcap ||
  echo "note: pcaps/teredo-lifecycle.pcap differs from what the builders make now" >&2
"$tool" decode --pcap pcaps/teredo-lifecycle.pcap | tee "$out/teredo-lifecycle.json"
echo "decoded $(wc -l <"$out/teredo-lifecycle.json") frames of pcaps/teredo-lifecycle.pcap into $out/teredo-lifecycle.json" >&2
