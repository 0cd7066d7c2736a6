#!/usr/bin/env bash
# Installs what apitap's build, tests and demo need on a fresh Debian machine
# (Go and gcc are already there). Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(libpcap-dev tcpdump tshark curl nginx wrk tcpreplay iproute2)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx from Debian starts a system service on install; the tests start their
# own instances on random loopback ports and do not need it.
