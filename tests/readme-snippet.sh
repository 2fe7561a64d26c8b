#!/bin/sh
# readme-snippet.sh SRC BUILD — the README's complete program (its ```c
# block) compiles against this build's library and runs: what a reader
# copies works.
set -eu
src=$1 build=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$src/README.md" > "$dir/readme.c"
[ -s "$dir/readme.c" ] || { echo "README.md has no C program"; exit 1; }
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$src/include" "$dir/readme.c" \
    -L"$build/lib" -lbptt -o "$dir/readme"
out=$(LD_LIBRARY_PATH="$build/lib" "$dir/readme")
echo "$out"
case $out in
"loss before "*" after one SGD step "*) ;;
*) echo "unexpected output"; exit 1 ;;
esac
