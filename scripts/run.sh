#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the full
# conformance suite against the reference implementation (teredo-ref) in
# network-namespace labs. Reports and evidence land in out/ (report.json,
# junit.xml, report.html, one folder of pcaps and logs per case). The exit
# code is the gate's: 0 no MUST failed, 1 a MUST failed, 2 a harness error.
# Extra arguments go to `teredo-conform run` (e.g. --iut miredo, --jobs 2).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
exec build/default/conformance/teredo-conform run --out "${TEREDO_OUT:-out}" "$@"
