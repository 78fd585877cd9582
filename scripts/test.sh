#!/bin/bash
# scripts/test.sh - sandgen's test command: `scripts/test.sh [CARGO TEST ARGS...]`
#
# Runs every test, including those that need a real systemd as PID 1, in two lanes:
#
#   container  systemd 252 as PID 1 of a throwaway systemd-nspawn container on this
#              host's cgroups (tests/harness/systemd-container.sh): `cargo test "$@"`.
#   guest      systemd 257 on pure cgroup v2, in a Debian 13 qemu guest
#              (tests/harness/v2vm.sh): the test binaries that need systemd (the
#              integration tests that declare `mod support;`) run again inside it,
#              from the checkout shared at the same path.
#
# It builds the tests, installs what the harnesses need, boots each lane, runs the tests
# and always removes what it booted. Exits 0 only when every lane passed; fails loudly
# (never skips) when a lane cannot boot.
#
#   scripts/test.sh                              everything, both lanes
#   scripts/test.sh --test systemd_smoke         one test target
#   scripts/test.sh -- --nocapture private_tmp   arguments for the test binaries
#   scripts/test.sh --locked                     what CI should pass
#   SANDGEN_TEST_LANES=container scripts/test.sh one lane only (container or guest), to
#                                                iterate; CI runs both
#
# Needs root (systemd-nspawn, mounts, cgroups, qemu) and Debian's apt-get for the packages.
# The guest's image and saved state are cached in /var/cache/sandgen-v2vm: the first run
# builds them (about 2 minutes), later ones restore the guest in seconds.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CONTAINER=tests/harness/systemd-container.sh
GUEST=tests/harness/v2vm.sh

say() { echo "scripts/test.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

[ "$(id -u)" = 0 ] ||
  die "must run as root: the tests boot a systemd container and a qemu guest (try: sudo $0)"
command -v cargo >/dev/null || die "cargo not found in PATH (install Rust with rustup)"

LANES=${SANDGEN_TEST_LANES:-container guest}
for lane in $LANES; do
  case $lane in container|guest) ;; *) die "unknown lane '$lane' in SANDGEN_TEST_LANES (container, guest)" ;; esac
done
lane_on() { [[ " $LANES " == *" $1 "* ]]; }

# Cargo's arguments, and those after `--` for the test binaries (the guest lane runs the
# binaries itself).
CARGO_ARGS=() BIN_ARGS=()
seen_dashes=no
for a in "$@"; do
  if [ $seen_dashes = yes ]; then BIN_ARGS+=("$a")
  elif [ "$a" = -- ]; then seen_dashes=yes
  else CARGO_ARGS+=("$a"); fi
done

T0=$(now)
lane_on container && { "$CONTAINER" deps || die "could not install the packages the container lane needs"; }
lane_on guest && { "$GUEST" deps || die "could not install the packages the guest lane needs"; }

# Remove containers and guests left behind by runs that were killed (SIGKILL skips the
# trap below): they are named sandgen-test-<PID of their scripts/test.sh>.
for harness in "$CONTAINER" "$GUEST"; do
  for old in $("$harness" list); do
    if [[ $old =~ ^sandgen-test-([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
      say "removing $old left by an earlier run ($harness)"
      "$harness" down "$old" || die "could not remove the stale $old ($harness down $old)"
    fi
  done
done

# Build first: a compile error needs no lane, and no boot is spent waiting.
cargo test --no-run "$@"

# The harnesses share the checkout with the lane; the target dir too when cargo puts it
# elsewhere (CARGO_TARGET_DIR, build.target-dir), so tests can run fresh binaries there.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
SHARES=("$PWD")
case "$TARGET_DIR" in
  "$PWD"/*|"") ;;
  *) export SANDGEN_HARNESS_BIND="${SANDGEN_HARNESS_BIND:-} $TARGET_DIR"; SHARES+=("$TARGET_DIR") ;;
esac

NAME=sandgen-test-$$
# shellcheck disable=SC2317 # called as a trap
cleanup() {
  local rc=$? harness
  trap - EXIT INT TERM
  for harness in "$CONTAINER" "$GUEST"; do
    if ! "$harness" down "$NAME"; then
      say "error: could not remove $NAME; run: $harness down $NAME"
      [ "$rc" != 0 ] || rc=1
    fi
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SUMMARY=() STATUS=0

# The container lane: cargo test, with the container's SANDGEN_TEST_* in the environment.
container_lane() {
  local t1 t2 t3 env_lines rc=0
  t1=$(now)
  env_lines=$("$CONTAINER" up "$NAME") ||
    die "the systemd container $NAME did not boot (see the messages above); the tests that need systemd cannot run"
  t2=$(now)
  ( set -a; eval "$env_lines"; set +a; cargo test "$@" ) || rc=$?
  t3=$(now)
  "$CONTAINER" down "$NAME" || die "could not remove container $NAME"
  SUMMARY+=("container lane (systemd 252): up $(elapsed "$t1" "$t2"), cargo test $(elapsed "$t2" "$t3"): exit $rc")
  [ $rc = 0 ] || STATUS=1
}

# The test binaries that need systemd: integration tests that declare `mod support;`.
systemd_test_binaries() {
  cargo test --no-run --message-format=json "${CARGO_ARGS[@]}" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if m["target"]["kind"] != ["test"]:
        continue
    src = open(m["target"]["src_path"]).read()
    if "\nmod support;" in src:
        print(m["target"]["name"], m["executable"])
'
}

# The guest lane: each of those binaries again, inside the guest, from the shared checkout.
guest_lane() {
  local t1 t2 t3 env_lines rc=0 name exe list passed=() failed=()
  list=$(systemd_test_binaries) || die "cannot list the test binaries"
  [ -n "$list" ] || { SUMMARY+=("guest lane: no selected test needs systemd"); return 0; }
  t1=$(now)
  env_lines=$("$GUEST" up "$NAME" "${SHARES[@]}") ||
    die "the systemd 257 guest $NAME did not boot (see the messages above); the guest lane cannot run"
  t2=$(now)
  say "guest lane: $(echo "$env_lines" | tr '\n' ' ')"
  # A crash in the guest leaves its core in the shared target dir, where it can be read.
  local cores=$TARGET_DIR/v2vm-cores
  rm -rf "$cores"; mkdir -p "$cores"
  "$GUEST" exec "$NAME" -- sysctl -q -w "kernel.core_pattern=$cores/core.%e.%p" ||
    die "cannot set the guest's core pattern"
  while read -r name exe; do
    say "guest lane: $name"
    if "$GUEST" exec "$NAME" --cwd "$PWD" -- \
         /bin/sh -c 'ulimit -c unlimited && exec "$@"' sh "$exe" "${BIN_ARGS[@]}"; then
      passed+=("$name")
    else
      failed+=("$name"); rc=1
    fi
  done <<< "$list"
  if [ -n "$(ls -A "$cores")" ]; then
    say "guest lane: processes dumped core (kept in $cores): $(ls "$cores" | tr '\n' ' ')"
  fi
  t3=$(now)
  "$GUEST" down "$NAME" || die "could not remove guest $NAME"
  SUMMARY+=("guest lane (systemd 257, cgroup v2): up $(elapsed "$t1" "$t2"), tests $(elapsed "$t2" "$t3"): ${#passed[@]} binaries passed${failed:+, FAILED: ${failed[*]}}")
  [ $rc = 0 ] || STATUS=1
}

T1=$(now)
lane_on container && container_lane "$@"
lane_on guest && guest_lane
say "build+deps $(elapsed "$T0" "$T1")"
for line in "${SUMMARY[@]}"; do say "$line"; done
exit "$STATUS"
