#!/bin/bash
# benches/start.sh - sandgen start/run against the commands people type today, side by side.
#
#   benches/start.sh [ROUNDS]        (as root; default 15 rounds)
#
# Boots its own systemd container (tests/harness/systemd-container.sh, or with
# SANDGEN_BENCH_LANE=guest the systemd 257 guest of tests/harness/v2vm.sh: benches/lane.sh), builds sandgen in
# release mode, and times inside the container, interleaved round by round:
#   changed    the unit file differs from the installed one:
#              sandgen start --settle 0 POLICY   vs   cp UNIT /etc/systemd/system && systemctl daemon-reload && systemctl start
#   unchanged  nothing changed since the last start:
#              sandgen start --settle 0 POLICY   vs   systemctl daemon-reload && systemctl start
#   run        a transient unit from the same policy:
#              sandgen run --settle 0 POLICY     vs   systemctl daemon-reload && systemctl start
#   running    the unit file changed while the unit runs (systemd holds it, so both reload):
#              sandgen start --settle 0 POLICY   vs   cp UNIT ... && systemctl daemon-reload && systemctl start
#   default    sandgen start with its default --settle (watched from the exec, scaled by set-up)
# The unit is stopped (untimed) between rounds. Prints medians and ratios; the results
# are recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-15}
# shellcheck source=benches/lane.sh
. benches/lane.sh
NAME=sandgen-bench-$$

cargo build --release --locked -q
BIN=$PWD/target/release/sandgen
trap '"$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
lane_up

POL=$PWD/target/bench-heat.toml
UNIT_SRC=$PWD/target/bench-heat.service
sed 's/^description = .*/description = "bench heat ROUND"/' policies/heat.toml > "$POL"

# Time one command inside the container, in ms. The clock runs inside too, so nsenter's
# own start-up is not counted.
timed() { inside bash -c 's=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; e=$(date +%s%N); echo $(( (e - s) / 1000 )) $rc' bash "$@"; }
reset() { inside systemctl stop bench-heat.service heat-run.service >/dev/null 2>&1 || true
          inside systemctl reset-failed >/dev/null 2>&1 || true; }

declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
for r in $(seq "$ROUNDS"); do
  # changed: a new description each round, so the unit file differs.
  sed -i "s/^description = .*/description = \"bench heat $r\"/" "$POL"
  reset; read -r us rc < <(timed "$BIN" -q start --settle 0 "$POL" --unit-dir /etc/systemd/system); [ "$rc" = 0 ] || { echo "sandgen start failed" >&2; exit 1; }
  add sandgen_changed "$us"
  "$BIN" render "$POL" --systemd-version "$SANDGEN_TEST_SYSTEMD" | sed 's/bench heat [0-9]*/bench heat x'"$r"'/' > "$UNIT_SRC"
  reset; read -r us rc < <(timed sh -c "cp $UNIT_SRC /etc/systemd/system/bench-heat.service && systemctl daemon-reload && systemctl start bench-heat.service")
  add systemctl_changed "$us"
  # unchanged: same file as installed.
  "$BIN" render "$POL" --systemd-version "$SANDGEN_TEST_SYSTEMD" > "$UNIT_SRC"; inside cp "$UNIT_SRC" /etc/systemd/system/bench-heat.service; inside systemctl daemon-reload
  reset; read -r us rc < <(timed "$BIN" -q start --settle 0 "$POL"); add sandgen_unchanged "$us"
  reset; read -r us rc < <(timed sh -c "systemctl daemon-reload && systemctl start bench-heat.service"); add systemctl_unchanged "$us"
  reset; read -r us rc < <(timed "$BIN" -q run --settle 0 --unit heat-run "$POL"); add sandgen_run "$us"
  reset; read -r us rc < <(timed "$BIN" -q start "$POL"); add sandgen_default "$us"
  # running: change the file under a running unit.
  sed -i "s/^description = .*/description = \"bench heat running $r\"/" "$POL"
  read -r us rc < <(timed "$BIN" -q start --settle 0 "$POL"); add sandgen_running "$us"
  "$BIN" render "$POL" --systemd-version "$SANDGEN_TEST_SYSTEMD" | sed 's/bench heat running [0-9]*/bench heat y'"$r"'/' > "$UNIT_SRC"
  read -r us rc < <(timed sh -c "cp $UNIT_SRC /etc/systemd/system/bench-heat.service && systemctl daemon-reload && systemctl start bench-heat.service")
  add systemctl_running "$us"
done
reset

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
m() { echo "${T[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "rounds: $ROUNDS (medians, ms, measured inside $LANE)"
printf '%-46s %8s %8s %7s\n' "scenario" "sandgen" "systemctl" "ratio"
printf '%-46s %8s %8s %7s\n' "start, unit file changed (goal <= 0.8x)" "$(m sandgen_changed)" "$(m systemctl_changed)" "$(ratio "$(m sandgen_changed)" "$(m systemctl_changed)")"
printf '%-46s %8s %8s %7s\n' "start, unit file unchanged (reload skipped)" "$(m sandgen_unchanged)" "$(m systemctl_unchanged)" "$(ratio "$(m sandgen_unchanged)" "$(m systemctl_unchanged)")"
printf '%-46s %8s %8s %7s\n' "run (transient) vs reload+start (goal <= 0.2x)" "$(m sandgen_run)" "$(m systemctl_unchanged)" "$(ratio "$(m sandgen_run)" "$(m systemctl_unchanged)")"
printf '%-46s %8s %8s %7s\n' "start, file changed under a running unit" "$(m sandgen_running)" "$(m systemctl_running)" "$(ratio "$(m sandgen_running)" "$(m systemctl_running)")"
printf '%-46s %8s %8s %7s\n' "start with the default settle (from the exec)" "$(m sandgen_default)" "$(m systemctl_unchanged)" "$(ratio "$(m sandgen_default)" "$(m systemctl_unchanged)")"
