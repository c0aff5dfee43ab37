#!/usr/bin/env bash
# Installs, through apt and without questions, every Debian package the project
# builds, tests or runs with. Installs only what is missing, so a second call is
# quick. Needs root (CI and the README commands run as root).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libfuzzer-14-dev libclang-rt-14-dev
  libpcap-dev libtins-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev
  iproute2 iputils-ping nftables procps miredo miredo-server tshark
  # reports/ tests: python3-jsonschema validates report.json against
  # reports/schema/teredo-compliance-report.schema.json; libxml2-utils
  # (xmllint) validates junit.xml against reports/schema/junit.xsd; chromium
  # renders report.html headless (label ui) to check its script and DOM.
  python3-jsonschema libxml2-utils chromium
  # The lab's UPnP IGD (a NAT profile with "+upnp", RFC 6081 §5.3) is checked
  # with miniupnpc's real client, upnpc (label lab). A client tool only: it
  # starts no service. libminiupnpc-dev: teredo-ref client --upnp's calls.
  miniupnpc libminiupnpc-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# miredo's maintainer scripts would start its daemons; the lab starts them itself.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=1
fi
trap '[ $own_policy -eq 1 ] && rm -f "$policy"' EXIT

echo "install-deps: installing ${missing[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
