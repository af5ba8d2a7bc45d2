#!/usr/bin/env bash
# Installs arinspect into ./.venv on a fresh machine: the Debian libraries Open3D needs
# (when missing), a virtual environment, and the package with pinned dependencies.
# Usage: scripts/install.sh [EXTRAS]   e.g. scripts/install.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

missing=()
ldconfig -p | grep -q 'libusb-1.0.so.0' || missing+=(libusb-1.0-0)
ldconfig -p | grep -q 'libgomp.so.1' || missing+=(libgomp1)
ldconfig -p | grep -q 'libGL.so.1' || missing+=(libgl1)
ldconfig -p | grep -q 'libEGL.so.1' || missing+=(libegl1)
# The sync server's tests run against a throw-away PostgreSQL (initdb/pg_ctl of the Debian
# package; no cluster service is used): only needed for the dev extra.
if [[ "$extras" == *dev* ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null; then
    missing+=(postgresql)
fi
# Voice tests synthesise speech with espeak-ng: only needed for the dev extra.
if [[ "$extras" == *dev* ]] && ! command -v espeak-ng > /dev/null; then
    missing+=(espeak-ng)
fi
# The QA viewer's JavaScript (three.js, and gltf-validator for the tests) comes from npm.
command -v npm > /dev/null || missing+=(nodejs npm)
# The viewer's end-to-end tests drive the Debian Chromium with Playwright: dev extra only.
if [[ "$extras" == *dev* ]] && ! command -v chromium > /dev/null; then
    missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing system libraries: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" > /dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=24"
target="."
[ -n "$extras" ] && target=".[$extras]"
.venv/bin/python -m pip install -q -c constraints.txt -e "$target"
# three.js and gltf-validator at the versions pinned in the viewer's package-lock.json.
(cd server/arinspect_server/viewer && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
