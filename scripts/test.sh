#!/bin/bash
# scripts/test.sh - sandgen's test command: `scripts/test.sh [CARGO TEST ARGS...]`
#
# Runs every test, including those that need a real systemd as PID 1, in two lanes:
#
#   container  systemd 252 as PID 1 of a throwaway systemd-nspawn container on this
#              host's cgroups (tests/harness/systemd-container.sh): `cargo test "$@"`.
#   guest      systemd 257 on pure cgroup v2, in a Debian 13 qemu guest
#              (tests/harness/v2vm.sh): the test binaries that need systemd (the
#              integration tests that declare `mod support;`, but tests/package.rs)
#              run again inside it, from the checkout shared at the same path.
#
# For tests/package.rs it builds the Debian package first (scripts/build-deb.sh, the
# release build) and exports its path as SANDGEN_TEST_DEB.
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
#   SANDGEN_TEST_GUESTS=N                        guests the guest lane shares its binaries
#                                                out to (default 2, one a host core)
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

# The guests of the guest lane: SANDGEN_TEST_GUESTS of them (default 2), each emulating its
# vCPUs on one host thread (see v2vm.sh), so that the binaries share out the host's cores.
GUESTS=${SANDGEN_TEST_GUESTS:-2}
[[ $GUESTS =~ ^[1-8]$ ]] || die "SANDGEN_TEST_GUESTS must be 1 to 8, not '$GUESTS'"

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
    if [[ $old =~ ^sandgen-test-([0-9]+)(-g[0-9]+)?$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
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

# The Debian package, for tests/package.rs in the container lane: built once here, in the
# release profile as users get it (scripts/build-deb.sh, which installs the pinned
# cargo-deb the first time), under the target dir. Only when the selected tests include
# that binary: `--test NAME` arguments that leave it out need no release build.
deb_selected() {
  local a prev="" tests=()
  for a in "${CARGO_ARGS[@]}"; do
    if [ "$prev" = --test ]; then tests+=("$a"); fi
    case $a in --test=*) tests+=("${a#--test=}") ;; esac
    prev=$a
  done
  [ ${#tests[@]} = 0 ] && return 0
  for a in "${tests[@]}"; do [ "$a" = package ] && return 0; done
  return 1
}
if lane_on container && deb_selected; then
  t=$(now)
  locked=()
  for a in "${CARGO_ARGS[@]}"; do [ "$a" = --locked ] && locked=(--locked); done
  SANDGEN_TEST_DEB=$(scripts/build-deb.sh "${locked[@]}") ||
    die "could not build the Debian package (scripts/build-deb.sh) that tests/package.rs installs"
  export SANDGEN_TEST_DEB
  say "built $SANDGEN_TEST_DEB in $(elapsed "$t" "$(now)")"
fi

NAME=sandgen-test-$$
guest_names() { local i; for ((i = 0; i < GUESTS; i++)); do echo "$NAME-g$i"; done; }
# shellcheck disable=SC2317 # called as a trap
cleanup() {
  local rc=$? harness
  trap - EXIT INT TERM
  local g
  if ! "$CONTAINER" down "$NAME"; then
    say "error: could not remove $NAME; run: $CONTAINER down $NAME"
    [ "$rc" != 0 ] || rc=1
  fi
  for g in $(guest_names); do
    if ! "$GUEST" down "$g"; then
      say "error: could not remove $g; run: $GUEST down $g"
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

# The test binaries that need systemd: integration tests that declare `mod support;`,
# but tests/package.rs (see below).
systemd_test_binaries() {
  cargo test --no-run --message-format=json "${CARGO_ARGS[@]}" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if m["target"]["kind"] != ["test"]:
        continue
    # package: the guest image drops /usr/share/man and /usr/share/doc at install (dpkg
    # path-exclude) and has no man-db, so the installed package could not be checked there.
    if m["target"]["name"] == "package":
        continue
    src = open(m["target"]["src_path"]).read()
    if "\nmod support;" in src:
        print(m["target"]["name"], m["executable"])
'
}


# One guest's share of the binaries (lines `NAME EXE`), run in order: output to $2, the names
# of those that failed to $3.
guest_queue() { # GUEST LOG FAILED LIST
  local g=$1 log=$2 failed=$3 list=$4 name exe
  : > "$failed"
  while read -r name exe; do
    [ -n "$name" ] || continue
    echo "scripts/test.sh: guest lane ($g): $name"
    "$GUEST" exec "$g" --cwd "$PWD" -- \
      /bin/sh -c 'ulimit -c unlimited && exec "$@"' sh "$exe" "${BIN_ARGS[@]}" ||
      echo "$name" >> "$failed"
  done <<< "$list" > "$log" 2>&1
}

# The guest lane: each of those binaries again, inside the guests, from the shared checkout.
guest_lane() {
  local t1 t2 t3 env_lines rc=0 list g i n=0 queues=() failed=() total
  list=$(systemd_test_binaries) || die "cannot list the test binaries"
  [ -n "$list" ] || { SUMMARY+=("guest lane: no selected test needs systemd"); return 0; }
  total=$(wc -l <<< "$list")
  t1=$(now)
  local names; mapfile -t names < <(guest_names)
  for g in "${names[@]}"; do
    env_lines=$("$GUEST" up "$g" "${SHARES[@]}") ||
      die "the systemd 257 guest $g did not boot (see the messages above); the guest lane cannot run"
  done
  t2=$(now)
  say "guest lane: ${#names[@]} guests; $(echo "$env_lines" | tr '\n' ' ')"
  # A crash in a guest leaves its core in the shared target dir, where it can be read.
  local cores=$TARGET_DIR/v2vm-cores
  rm -rf "$cores"; mkdir -p "$cores"
  for g in "${names[@]}"; do
    "$GUEST" exec "$g" -- sysctl -q -w "kernel.core_pattern=$cores/core.%e.%p" ||
      die "cannot set the core pattern of guest $g"
  done
  # Deal the binaries out in turn, and run the queues side by side.
  for ((i = 0; i < ${#names[@]}; i++)); do queues[i]=""; done
  while read -r line; do
    queues[n % ${#names[@]}]+="$line"$'\n'
    n=$((n + 1))
  done <<< "$list"
  local work; work=$(mktemp -d)
  for ((i = 0; i < ${#names[@]}; i++)); do
    guest_queue "${names[i]}" "$work/log$i" "$work/failed$i" "${queues[i]}" &
  done
  wait
  for ((i = 0; i < ${#names[@]}; i++)); do
    cat "$work/log$i"
    while read -r g; do [ -n "$g" ] && failed+=("$g"); done < "$work/failed$i"
  done
  rm -rf "$work"
  if [ -n "$(ls -A "$cores")" ]; then
    say "guest lane: processes dumped core (kept in $cores): $(ls "$cores" | tr '\n' ' ')"
  fi
  t3=$(now)
  for g in "${names[@]}"; do "$GUEST" down "$g" || die "could not remove guest $g"; done
  [ ${#failed[@]} = 0 ] || rc=1
  SUMMARY+=("guest lane (systemd 257, cgroup v2): up $(elapsed "$t1" "$t2"), tests $(elapsed "$t2" "$t3"): $((total - ${#failed[@]})) of $total binaries passed${failed:+, FAILED: ${failed[*]}}")
  [ $rc = 0 ] || STATUS=1
}

T1=$(now)
lane_on container && container_lane "$@"
lane_on guest && guest_lane
say "build+deps $(elapsed "$T0" "$T1")"
for line in "${SUMMARY[@]}"; do say "$line"; done
exit "$STATUS"
