#!/bin/bash
# scripts/test.sh - sandgen's test command: `scripts/test.sh [CARGO TEST ARGS...]`
#
# Runs every test, including those that need a real systemd as PID 1 (tests/support,
# tests/systemd_smoke.rs): builds the tests, installs what the harness needs, boots a
# throwaway systemd container (tests/harness/systemd-container.sh), exports its
# SANDGEN_TEST_* variables, runs `cargo test "$@"`, and always removes the container.
# Exits with cargo's status; fails loudly (never skips) when the container cannot boot.
#
#   scripts/test.sh                              everything
#   scripts/test.sh --test systemd_smoke         one test target
#   scripts/test.sh -- --nocapture private_tmp   arguments for the test binaries
#   scripts/test.sh --locked                     what CI should pass
#
# Needs root (systemd-nspawn, mounts, cgroups) and Debian's apt-get for the packages.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
HARNESS=tests/harness/systemd-container.sh

say() { echo "scripts/test.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

[ "$(id -u)" = 0 ] ||
  die "must run as root: the tests boot a systemd container with systemd-nspawn (try: sudo $0)"
command -v cargo >/dev/null || die "cargo not found in PATH (install Rust with rustup)"

T0=$(now)
"$HARNESS" deps || die "could not install the packages the tests need"

# Remove containers left behind by runs that were killed (SIGKILL skips the trap below):
# they are named sandgen-test-<PID of their scripts/test.sh>.
for old in $("$HARNESS" list); do
  if [[ $old =~ ^sandgen-test-([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    say "removing container $old left by an earlier run"
    "$HARNESS" down "$old" || die "could not remove the stale container $old"
  fi
done

# Build first: a compile error needs no container, and the boot is not spent waiting.
cargo test --no-run "$@"

# The harness binds the checkout into the container; the target dir too when cargo puts
# it elsewhere (CARGO_TARGET_DIR, build.target-dir), so tests can run fresh binaries there.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
case "$TARGET_DIR" in
  "$PWD"/*|"") ;;
  *) export SANDGEN_HARNESS_BIND="${SANDGEN_HARNESS_BIND:-} $TARGET_DIR" ;;
esac

NAME=sandgen-test-$$
# shellcheck disable=SC2317 # called as a trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ! "$HARNESS" down "$NAME"; then
    say "error: could not remove container $NAME; run: $HARNESS down $NAME"
    [ "$rc" != 0 ] || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T1=$(now)
ENV_LINES=$("$HARNESS" up "$NAME") ||
  die "the systemd container $NAME did not boot (see the messages above); the tests that need systemd cannot run"
set -a
eval "$ENV_LINES"
set +a
T2=$(now)

STATUS=0
cargo test "$@" || STATUS=$?
T3=$(now)
say "build+deps $(elapsed "$T0" "$T1"), container up $(elapsed "$T1" "$T2"), cargo test $(elapsed "$T2" "$T3"): exit $STATUS"
exit "$STATUS"
