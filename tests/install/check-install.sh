#!/bin/sh
# Install the built library into a scratch root and build tests/install/user.c
# against it the way the README tells a user to: cc ... $(pkg-config ...).
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$root"
pcdir=$(dirname "$(find "$root" -name bptt.pc | head -n 1)")
test -f "$pcdir/bptt.pc"
export PKG_CONFIG_PATH="$pcdir"
export PKG_CONFIG_SYSROOT_DIR="$root"
libdir=$(pkg-config --variable=libdir bptt)
cc -std=c11 -Wall -Wextra -Werror "$src/tests/install/user.c" \
   $(pkg-config --cflags --libs bptt) -lm -o "$root/user"
# The soname is versioned and only bptt* symbols are exported.
soname=$(readelf -d "$libdir/libbptt.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
test "$soname" = "libbptt.so.0"
bad=$(nm -D --defined-only "$libdir/libbptt.so" | awk '{print $3}' | grep -v '^bptt' || true)
if [ -n "$bad" ]; then echo "exported symbols without the bptt prefix: $bad"; exit 1; fi
LD_LIBRARY_PATH="$libdir" "$root/user"
# bptt-bench is installed and runs against the installed library.
bench=$(find "$root" -name bptt-bench -type f | head -n 1)
test -x "$bench"
LD_LIBRARY_PATH="$libdir" "$bench" --list-algos | grep -qx naive
