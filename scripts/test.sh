#!/usr/bin/env bash
# The test command: installs what is missing, builds (warnings are errors) and
# runs every test of the default build through CTest. Tests that need root and
# network namespaces carry the `lab` label and skip themselves without root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default "$@"
