#!/bin/bash
# benches/whole.sh - how much sandbox `sandgen suggest` hands out, per workload: the exposure
# score (`systemd-analyze security`, 0 best, 10 worst, through `sandgen score`) and how many
# system calls the filter allows, for three policies of the same command:
#   bare     the command alone as a oneshot unit, no sandbox
#   seccomp  bare plus the [seccomp] allow-list of `sandgen suggest -- CMD` (what sandgen
#            suggested before issue 16)
#   whole    the whole policy of `sandgen suggest --whole -- CMD`
#
#   benches/whole.sh                   (as root)
#
# The workloads are the five of issue 16 (and of tests/suggest_whole.rs). Boots its own
# systemd container (tests/harness/systemd-container.sh, or with SANDGEN_BENCH_LANE=guest the
# systemd 257 guest of tests/harness/v2vm.sh: benches/lane.sh) and traces and scores inside
# it, with its own systemd-analyze. Not a timing: the figures are the same on every run of
# the same systemd. The results are recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/lane.sh
. benches/lane.sh
NAME=sandgen-bench-whole-$$

cargo build --release --locked -q
BIN=$PWD/target/release/sandgen
trap '"$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
lane_up

# One workload, inside the lane: prints "exposure allowed/known" for bare, seccomp, whole.
# shellcheck disable=SC2016 # expanded inside the lane
SCORE='
set -euo pipefail
bin=$1; version=$2; shift 2
dir=$(mktemp -d); cd "$dir"
argv=$(python3 -c "import json, sys; print(json.dumps(sys.argv[1:]))" "$@")
score() { # FILE
  "$bin" -q score --json --systemd-version "$version" "$1" | python3 -c "
import json, sys
s = json.load(sys.stdin)
f = s.get(\"filter\") or {}
allowed = f.get(\"allowed\")
print(\"%.1f %s/%s\" % (s[\"exposure\"], allowed if allowed is not None else \"all\", f.get(\"known\", \"?\")))"
}
printf "[service]\ntype = \"oneshot\"\nexec = %s\n" "$argv" > bare.toml
{ cat bare.toml; "$bin" -q suggest -- "$@" | grep -v "^#"; } > seccomp.toml
"$bin" -q suggest --whole --json -- "$@" |
  python3 -c "import json, sys; sys.stdout.write(json.load(sys.stdin)[\"policy_toml\"])" > whole.toml
echo "$(score bare.toml) $(score seccomp.toml) $(score whole.toml)"
rm -rf "$dir"
'

declare -a NAMES=(dd "sort|gzip|wc" "tar|sha256sum" "ls -laR /etc" "python3 sqlite3")
declare -a CMDS=(
  '/usr/bin/dd if=/dev/zero of=/dev/null count=1000'
  "/bin/sh -c 'seq 1 20000 | sort -rn | gzip -9 | wc -c'"
  "/bin/sh -c 'tar cf - /etc/os-release /etc/debian_version /etc/passwd /etc/group | sha256sum'"
  '/bin/ls -laR /etc'
  "/usr/bin/python3 -c 'import json, sqlite3, hashlib; db = sqlite3.connect(\":memory:\"); db.execute(\"create table t(x)\"); db.executemany(\"insert into t values (?)\", [(i,) for i in range(100)]); n = db.execute(\"select sum(x) from t\").fetchone()[0]; print(json.dumps({\"sum\": n, \"md5\": hashlib.md5(b\"x\").hexdigest()}))'"
)
echo "exposure (0 best, 10 worst) and system calls allowed, measured inside $LANE"
printf '| %-16s | %-16s | %-16s | %-16s |\n' workload bare "seccomp only" whole
printf '|%s|%s|%s|%s|\n' ------------------ ------------------ ------------------ ------------------
for i in "${!NAMES[@]}"; do
  eval "set -- ${CMDS[$i]}"
  read -r b ba s sa w wa < <(inside bash -c "$SCORE" bash "$BIN" "$SANDGEN_TEST_SYSTEMD" "$@")
  printf '| %-16s | %-16s | %-16s | %-16s |\n' "${NAMES[$i]}" "$b, $ba" "$s, $sa" "$w, $wa"
done
