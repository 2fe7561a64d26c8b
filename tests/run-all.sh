#!/bin/sh
# run-all.sh — the full test suite: configure ./build if needed, build, and
# run every Check suite and the install test under meson test.
set -eu
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs
