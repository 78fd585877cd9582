#!/bin/bash
# benches/suggest.sh - the cost of tracing: `sandgen suggest` on a syscall-heavy command vs
# the command alone, side by side.
#
#   benches/suggest.sh [ROUNDS] [COUNT]     (as root; default 5 rounds, COUNT 200000)
#
# The command is `dd if=/dev/zero of=/dev/null bs=1 count=COUNT`: two system calls per byte,
# so it is almost nothing but syscall entries and exits, the worst case for ptrace. Boots
# its own systemd container (tests/harness/systemd-container.sh, or with
# SANDGEN_BENCH_LANE=guest the systemd 257 guest of tests/harness/v2vm.sh: benches/lane.sh), builds sandgen in release
# mode, and times inside the container, interleaved round by round:
#   plain      dd alone
#   strace     strace -f -q -o FILE -- dd            (the tracer alone, no sandgen)
#   direct     sandgen suggest --direct -- dd        (strace as a child of sandgen)
#   unit       sandgen suggest -- dd                 (the default: strace in a transient unit)
# Prints medians and the ratios to plain. strace stops the tracee at every syscall entry and
# exit, so the ratio is about three orders of magnitude on this command; that is expected and
# is why the tracer sits behind `SyscallTracer`, for a BPF backend (raw_syscalls:sys_enter,
# about 2x measured here) to slot in. No assertion on timings: the results are recorded in
# BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-5}
COUNT=${2:-200000}
# shellcheck source=benches/lane.sh
. benches/lane.sh
NAME=sandgen-bench-suggest-$$

cargo build --release --locked -q
BIN=$PWD/target/release/sandgen
trap '"$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
lane_up

DD=(/usr/bin/dd if=/dev/zero of=/dev/null bs=1 "count=$COUNT")
# Time one command inside the container, in µs; the clock runs inside, so nsenter's own
# start-up is not counted. Fails the benchmark when the command fails.
timed() {
  local out us rc
  out=$(inside bash -c 's=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; e=$(date +%s%N); echo $(( (e - s) / 1000 )) $rc' bash "$@")
  read -r us rc <<<"$out"
  [ "$rc" = 0 ] || { echo "benches/suggest.sh: $* failed (exit $rc)" >&2; exit 1; }
  echo "$us"
}

declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
for r in $(seq "$ROUNDS"); do
  add plain "$(timed "${DD[@]}")"
  add strace "$(timed strace -f -q -o /run/bench-suggest.strace -- "${DD[@]}")"
  add direct "$(timed "$BIN" -q suggest --direct -- "${DD[@]}")"
  add unit "$(timed "$BIN" -q suggest -- "${DD[@]}")"
  echo "round $r/$ROUNDS (µs): plain ${T[plain]##* }, strace ${T[strace]##* }, direct ${T[direct]##* }, unit ${T[unit]##* }" >&2
done
inside rm -f /run/bench-suggest.strace

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f", m / 1000000}'; }
m() { echo "${T[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0fx", a / b }'; }
echo "dd if=/dev/zero of=/dev/null bs=1 count=$COUNT; rounds: $ROUNDS (medians, seconds, measured inside $LANE)"
printf '%-52s %10s %8s\n' "what" "seconds" "vs plain"
printf '%-52s %10s %8s\n' "dd alone" "$(m plain)" "1x"
printf '%-52s %10s %8s\n' "strace -f -q -o FILE -- dd" "$(m strace)" "$(ratio "$(m strace)" "$(m plain)")"
printf '%-52s %10s %8s\n' "sandgen suggest --direct -- dd" "$(m direct)" "$(ratio "$(m direct)" "$(m plain)")"
printf '%-52s %10s %8s\n' "sandgen suggest -- dd (transient unit, the default)" "$(m unit)" "$(ratio "$(m unit)" "$(m plain)")"
