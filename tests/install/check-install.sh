#!/bin/sh
# Install the built library into a scratch root and build tests/install/user.c
# against it as its users do, each program run and checked (user.c exits
# non-zero unless its two gradients agree):
#   - with pkg-config, as the README shows: cc ... $(pkg-config ...);
#   - with CMake: find_package(bptt) and the target bptt::bptt
#     (tests/install/cmake/), shared and with BPTT_USE_STATIC_LIBS=ON,
#     when cmake is installed;
#   - fully static: libbptt.a and Debian's static BLAS, LAPACKE, gfortran
#     and libc archives, when they are installed (setup.sh installs them).
# Also: the soname, the shared library's exports, and the archive's
# contents.  (bptt as a meson subproject: check-subproject.sh.)
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

# The archive holds both precisions and the precision-independent part.
for sym in bptt_backward bpttf_backward bptt_net_create bptt_strerror; do
    nm --defined-only "$libdir/libbptt.a" 2>/dev/null | grep -q " T $sym\$" ||
        { echo "libbptt.a does not define $sym"; exit 1; }
done

# CMake: find_package(bptt) from the scratch prefix, bptt::bptt.
if command -v cmake >/dev/null; then
    prefix=$(pkg-config --variable=prefix bptt)
    cmake -S "$src/tests/install/cmake" -B "$root/cmake-build" \
          -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
          >"$root/cmake.log" 2>&1 || { cat "$root/cmake.log"; exit 1; }
    cmake --build "$root/cmake-build" >"$root/cmake.log" 2>&1 ||
        { cat "$root/cmake.log"; exit 1; }
    readelf -d "$root/cmake-build/user" | grep NEEDED | grep -q 'libbptt\.so\.0' ||
        { echo "the CMake program does not link libbptt.so.0"; exit 1; }
    LD_LIBRARY_PATH="$libdir" "$root/cmake-build/user"
    # The archive instead, on request.
    cmake -S "$src/tests/install/cmake" -B "$root/cmake-static" \
          -DCMAKE_PREFIX_PATH="$prefix" -DBPTT_USE_STATIC_LIBS=ON \
          >"$root/cmake.log" 2>&1 || { cat "$root/cmake.log"; exit 1; }
    cmake --build "$root/cmake-static" >"$root/cmake.log" 2>&1 ||
        { cat "$root/cmake.log"; exit 1; }
    if readelf -d "$root/cmake-static/user" | grep NEEDED | grep -q libbptt; then
        echo "BPTT_USE_STATIC_LIBS=ON linked libbptt.so"; exit 1
    fi
    "$root/cmake-static/user"
else
    echo "cmake not installed: the CMake consumer is not checked"
fi

# Fully static: no shared library at all in the program.  libgfortran.a
# (Debian libgfortran-12-dev) is what OpenBLAS's LAPACK needs beyond the
# -dev packages of the build; libpthread is part of libc on Debian 12.
if cc -print-file-name=libgfortran.a | grep -q /; then
    cc -std=c11 -static -I"$(pkg-config --variable=includedir bptt)" \
       "$src/tests/install/user.c" "$libdir/libbptt.a" \
       -llapacke -lopenblas -lgfortran -lquadmath -lm -lpthread \
       -o "$root/user-static"
    if readelf -d "$root/user-static" 2>/dev/null | grep -q NEEDED; then
        echo "user-static is not statically linked"; exit 1
    fi
    "$root/user-static"
else
    echo "libgfortran.a not installed: the fully static program is not checked"
fi
