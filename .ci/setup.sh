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

# Redocly CLI (npm @redocly/cli), which lints the OpenAPI documents apitap
# generates (analyze/openapi's TestRedoclyLint finds it here, or through
# $APITAP_REDOCLY). Installed into the user cache, only when that version is
# not already there.
REDOCLY_VERSION=2.77.0
REDOCLY_PREFIX="$HOME/.cache/apitap/npm"
if [ "$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$REDOCLY_PREFIX/node_modules/.bin/redocly" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "setup: installing nodejs and npm" >&2
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO="sudo"
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
	echo "setup: installing @redocly/cli@$REDOCLY_VERSION into $REDOCLY_PREFIX" >&2
	npm install --no-audit --no-fund --prefix "$REDOCLY_PREFIX" "@redocly/cli@$REDOCLY_VERSION" >/dev/null
fi
