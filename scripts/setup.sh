#!/bin/bash
# Installs the Debian 12 packages signpost needs to build, run and test.
# Only what is missing is installed; nothing happens when everything is there.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libldns-dev libuv1-dev libcurl4-openssl-dev libtomlplusplus-dev libcli11-dev libfmt-dev nlohmann-json3-dev libmicrohttpd-dev
  libsystemd-dev
  libmaxminddb-dev
  # tests
  doctest-dev python3 bind9-dnsutils knot-dnsutils knot nsd openssl ca-certificates procps
  libssl-dev  # DNSSEC keys and signatures (dnssec/, OpenSSL libcrypto)
  ldnsutils   # ldns-key2ds checks `signpost dnssec ds` (test_dnssec_keys); ldns-verify-zone
  unbound     # a validating resolver in front of signpost (test_dnssec_validation)
  libmaxmind-db-writer-perl
  # the incident page's browser test (headless Chromium through chromedriver)
  chromium chromium-driver
  man-db groff-base  # the man page tests render docs/man with man -l
  iproute2    # `ip netns`: the cluster partition test runs instances in network namespaces
  # fuzzing (libFuzzer)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "signpost setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "signpost setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts knotd as a service on install where an init system runs; the
# tests start their own instances, so stop a packaged one if it came up.
for unit in knot unbound; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    $sudo systemctl stop "$unit" || true
  fi
done
