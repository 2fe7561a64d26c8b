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
# The MPI module, when built: a user's program builds with pkg-config
# bptt-mpi; its library's soname is versioned and it exports bptt* only.
if [ -f "$pcdir/bptt-mpi.pc" ]; then
    # (the scratch root prefixes MPI's own paths too: add the system's)
    mpiflags=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags --libs \
               "$(sed -n 's/^Requires: bptt, *//p' "$pcdir/bptt-mpi.pc")")
    cc -std=c11 -Wall -Wextra -Werror "$src/tests/install/user_mpi.c" \
       $(pkg-config --cflags --libs bptt-mpi) $mpiflags -o "$root/user_mpi"
    soname=$(readelf -d "$libdir/libbptt_mpi.so" |
             sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
    test "$soname" = "libbptt_mpi.so.0"
    bad=$(nm -D --defined-only "$libdir/libbptt_mpi.so" | awk '{print $3}' |
          grep -v '^bptt' || true)
    if [ -n "$bad" ]; then
        echo "libbptt_mpi exports symbols without the bptt prefix: $bad"
        exit 1
    fi
fi
# bptt-bench is installed and runs against the installed library.
bench=$(find "$root" -name bptt-bench -type f | head -n 1)
test -x "$bench"
LD_LIBRARY_PATH="$libdir" "$bench" --list-algos | grep -qx naive
# The installed bptt-bench finds the installed peer runners (not the build
# tree's): the same peers as the build's bptt-bench.
built=$("$build/bench/bptt-bench" --list-peers 2>/dev/null | tr '\n' ' ')
installed=$(LD_LIBRARY_PATH="$libdir" "$bench" --list-peers 2>/dev/null | tr '\n' ' ')
if [ "$installed" != "$built" ]; then
    LD_LIBRARY_PATH="$libdir" "$bench" --list-peers
    echo "installed bptt-bench lists peers '$installed', the build's '$built'"
    exit 1
fi
# Without its runner, it says which file it looked for, and where.
runner=$(find "$root" -name bptt-peer-onednn -type f | head -n 1)
if [ -n "$runner" ]; then
    rm "$runner"
    why=$(LD_LIBRARY_PATH="$libdir" "$bench" --list-peers 2>&1 >/dev/null)
    case $why in
    *"peer onednn is not available: "*"/libexec/bptt/bptt-peer-onednn (from the installed files): No such file or directory"*) ;;
    *) echo "no reason naming the missing runner: $why"; exit 1 ;;
    esac
fi
