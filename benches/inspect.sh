#!/bin/bash
# benches/inspect.sh - sandgen inspect against the shell pipeline people type today, side by side.
#
#   benches/inspect.sh [ROUNDS]        (as root; default 15 rounds)
#
# Boots its own systemd container (tests/harness/systemd-container.sh, or with
# SANDGEN_BENCH_LANE=guest the systemd 257 guest of tests/harness/v2vm.sh: benches/lane.sh), builds sandgen in
# release mode, starts policies/heat.toml there, and times inside the container, interleaved
# round by round:
#   sandgen    sandgen inspect bench-heat --json          (every section, one JSON object)
#   pipeline   systemctl show --value -p MainPID -p ControlGroup bench-heat.service
#              nsenter -t PID -m cat /proc/self/mountinfo
#              grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/PID/status
#              cat of the unit's cgroup files (limit, usage, OOM counter, CPU weight, tasks)
#   summary    sandgen inspect bench-heat                 (the human summary; no baseline)
#   verify     sandgen verify bench-heat                  (reads and evaluates the seccomp
#                                                         filters with ptrace)
#   noptrace   sandgen verify bench-heat --no-ptrace      (the verify of before: goal, verify
#                                                         under 2x this)
# Both sides get the same facts, except that sandgen also compares the mount table with the
# service manager's, lists the cgroup's processes and checks the PID was not reused. Prints
# medians and the ratio; the results are recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-15}
# shellcheck source=benches/lane.sh
. benches/lane.sh
NAME=sandgen-bench-inspect-$$

cargo build --release --locked -q
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$TARGET/release/sandgen
trap '"$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
lane_up

POL=$TARGET/bench-heat.toml
cp policies/heat.toml "$POL"
inside "$BIN" -q start "$POL" >/dev/null
UNIT=bench-heat.service

# The pipeline, as one script run inside the container: the cgroup files of whichever
# layout the container has (v1 controllers here; cgroup v2 on most machines).
# shellcheck disable=SC2016 # expanded inside the container, not here
PIPELINE='
set -e
{ read -r pid; read -r cg; } < <(systemctl show --value -p MainPID -p ControlGroup "$1")
nsenter -t "$pid" -m cat /proc/self/mountinfo
grep -E "^(Cap|NoNewPrivs|Seccomp)" "/proc/$pid/status"
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  d=/sys/fs/cgroup$cg
  cat "$d/memory.max" "$d/memory.current" "$d/memory.events" "$d/cpu.weight" "$d/pids.max" "$d/pids.current"
else
  m=/sys/fs/cgroup/memory$cg
  cat "$m/memory.limit_in_bytes" "$m/memory.usage_in_bytes" "$m/memory.failcnt" "$m/memory.oom_control" \
      "/sys/fs/cgroup/cpu$cg/cpu.shares" "/sys/fs/cgroup/pids$cg/pids.max" "/sys/fs/cgroup/pids$cg/pids.current"
fi
'

# Both sides must work before anything is timed.
inside "$BIN" inspect "$UNIT" --json >/dev/null || { echo "sandgen inspect failed" >&2; exit 1; }
inside bash -c "$PIPELINE" bash "$UNIT" >/dev/null || { echo "the shell pipeline failed" >&2; exit 1; }

# Time one command inside the container, in µs. The clock runs inside too, so nsenter's own
# start-up (entering the container) is not counted.
# shellcheck disable=SC2016 # expanded by the inner bash
timed() { inside bash -c 's=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; e=$(date +%s%N); echo $(( (e - s) / 1000 )) $rc' bash "$@"; }

declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
run() { # KEY CMD...: time it, fail loudly if it fails
  local key=$1 us rc; shift
  read -r us rc < <(timed "$@")
  [ "$rc" = 0 ] || { echo "$key failed (exit $rc): $*" >&2; exit 1; }
  add "$key" "$us"
}
for _ in $(seq "$ROUNDS"); do
  run sandgen "$BIN" inspect "$UNIT" --json
  run pipeline bash -c "$PIPELINE" bash "$UNIT"
  run summary "$BIN" inspect "$UNIT"
  run verify "$BIN" verify "$UNIT"
  run noptrace "$BIN" verify "$UNIT" --no-ptrace
done
inside systemctl stop "$UNIT" >/dev/null 2>&1 || true

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
m() { echo "${T[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "rounds: $ROUNDS (medians, ms, measured inside $LANE)"
printf '%-52s %8s %8s %7s\n' "scenario" "sandgen" "shell" "ratio"
printf '%-52s %8s %8s %7s\n' "inspect --json vs the pipeline (goal <= 0.5x)" "$(m sandgen)" "$(m pipeline)" "$(ratio "$(m sandgen)" "$(m pipeline)")"
printf '%-52s %8s %8s %7s\n' "inspect (human summary)" "$(m summary)" "-" "-"
printf '%-52s %8s %8s %7s\n' "verify (recorded policy)" "$(m verify)" "$(m pipeline)" "$(ratio "$(m verify)" "$(m pipeline)")"
printf '%-52s %8s %8s %7s\n' "verify vs verify --no-ptrace (goal <= 2x)" "$(m verify)" "$(m noptrace)" "$(ratio "$(m verify)" "$(m noptrace)")"
