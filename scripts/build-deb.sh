#!/bin/bash
# scripts/build-deb.sh - build sandgen's Debian package: `scripts/build-deb.sh [CARGO DEB ARGS]`
#
# Installs the pinned cargo-deb when it is missing (about 5 minutes, once), then runs
# `cargo deb`: the release build, as users get it, and the .deb with the man pages, the
# shell completions and the example policies ([package.metadata.deb] in Cargo.toml).
# Prints the .deb's path on stdout, everything else on stderr:
#
#   sudo apt install "$(scripts/build-deb.sh)"    (or dpkg -i)
#
# dpkg-shlibdeps (dpkg-dev) works out the libc dependency; it is installed with apt-get
# when missing (as root). Extra arguments go to `cargo deb` (`--locked`, `-o DIR`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Pinned: a cargo-deb that builds with the stable Rust here (3.8 needs Rust 1.85).
CARGO_DEB_VERSION=3.8.0

say() { echo "scripts/build-deb.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

command -v cargo >/dev/null || die "cargo not found in PATH (install Rust with rustup)"

if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
  say "installing cargo-deb $CARGO_DEB_VERSION (cargo install --locked)"
  # Its own temporary target dir: not the project's, whose CARGO_TARGET_DIR may be set.
  env -u CARGO_TARGET_DIR cargo install --locked cargo-deb --version "$CARGO_DEB_VERSION" >&2 ||
    die "could not install cargo-deb $CARGO_DEB_VERSION"
fi

if ! command -v dpkg-shlibdeps >/dev/null; then
  [ "$(id -u)" = 0 ] || die "dpkg-shlibdeps not found: install dpkg-dev (apt-get install dpkg-dev)"
  say "installing dpkg-dev (dpkg-shlibdeps) with apt-get"
  log=$(mktemp)
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends dpkg-dev; } > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "apt-get could not install dpkg-dev"
  fi
  rm -f "$log"
fi

# cargo deb prints the path of the package it wrote as its last line on stdout.
deb=$(cargo deb "$@" | tail -n 1)
[ -f "$deb" ] || die "cargo deb did not print the path of a package (got '$deb')"
# Absolute: `apt install PATH` takes a path only with a slash in it, else a package name.
realpath "$deb"
