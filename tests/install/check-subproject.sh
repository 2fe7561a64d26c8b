#!/bin/sh
# bptt as a meson subproject of a project configured with
# -Ddefault_library=static: the parent's choice must reach libbptt, so the
# user's program has libbptt linked in (no libbptt.so needed at run time)
# and computes the right gradient (tests/install/user.c).
# Usage: check-subproject.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/user/subprojects"
cp "$src/tests/install/subproject/meson.build" "$src/tests/install/user.c" \
   "$tmp/user/"
ln -s "$src" "$tmp/user/subprojects/bptt"
meson setup "$tmp/build" "$tmp/user" -Ddefault_library=static \
      --force-fallback-for=bptt >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log"; exit 1; }
meson compile -C "$tmp/build" user >"$tmp/compile.log" 2>&1 ||
    { cat "$tmp/compile.log"; exit 1; }
# The subproject built the archive and no shared library, and the program
# does not ask for one.
find "$tmp/build/subprojects" -name 'libbptt.a' | grep -q .
if find "$tmp/build/subprojects" -name 'libbptt.so*' | grep -q .; then
    echo "the subproject built libbptt.so with default_library=static"; exit 1
fi
if readelf -d "$tmp/build/user" | grep NEEDED | grep -q libbptt; then
    echo "the program needs libbptt.so:"; readelf -d "$tmp/build/user"; exit 1
fi
"$tmp/build/user"
