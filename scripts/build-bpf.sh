#!/bin/sh
# Rebuild the in-kernel recorder, bpf/recorder.bpf.c -> bpf/recorder.bpf.o (checked in, so
# that `cargo build` needs no clang). `--check` rebuilds into a temporary file and fails if it
# differs from the checked-in object: the object in the tree is provably its source's.
#
# Reproducible: fixed flags, the source given by a relative path with the build directory
# mapped to `.`, and the DWARF sections stripped (they hold paths and the compiler's
# version string); the BTF sections stay, as CO-RE needs them. Needs Debian's clang and
# libbpf-dev (bookworm: clang 14, libbpf 1.1); installed with apt-get when missing.
set -eu
cd "$(dirname "$0")/.."

src=bpf/recorder.bpf.c
obj=bpf/recorder.bpf.o
check=no
case "${1:-}" in
--check) check=yes ;;
"") ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v clang >/dev/null || ! command -v llvm-strip >/dev/null || ! [ -e /usr/include/bpf/bpf_helpers.h ]; then
    echo "build-bpf: installing clang llvm libbpf-dev with apt-get" >&2
    log=$(mktemp)
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -q --no-install-recommends clang llvm libbpf-dev; } >"$log" 2>&1; then
        tail -20 "$log" >&2
        echo "error: apt-get could not install clang llvm libbpf-dev (needs root and Debian's registry)" >&2
        exit 1
    fi
    rm -f "$log"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clang -target bpf -O2 -g -D__TARGET_ARCH_x86 \
    -I/usr/include/x86_64-linux-gnu \
    -fdebug-prefix-map="$PWD"=. -fno-ident \
    -Wall -Werror \
    -c "$src" -o "$tmp/recorder.bpf.o"
llvm-strip --strip-debug "$tmp/recorder.bpf.o"

if [ "$check" = yes ]; then
    if ! cmp -s "$tmp/recorder.bpf.o" "$obj"; then
        echo "error: $obj is not what $src compiles to: run scripts/build-bpf.sh and commit the object" >&2
        exit 1
    fi
    echo "$obj matches $src"
else
    cp "$tmp/recorder.bpf.o" "$obj"
    echo "built $obj ($(clang --version | head -1))"
fi
