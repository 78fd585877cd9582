#!/bin/bash
# benches/learn.sh - the cost of `sandgen learn` to the service it records, and to everything
# else on the machine, side by side with strace.
#
#   benches/learn.sh [ROUNDS] [REQUESTS] [COUNT]   (as root; default 5 rounds, 5000 requests,
#                                                  COUNT 200000)
#
# Boots its own systemd container (tests/harness/systemd-container.sh, or with
# SANDGEN_BENCH_LANE=guest the systemd 257 guest: benches/lane.sh), builds sandgen in release
# mode, installs `python3 -m http.server` as a unit, and measures inside, interleaved round
# by round:
#   service: `ab -n REQUESTS -c 4` (apache2-utils, installed with apt-get when missing) on a
#   small file, requests per second:
#     untraced   the unit alone
#     learn      `sandgen learn` attached to the running unit (BPF, whole cgroup)
#     strace     `strace -f -p MAINPID` attached to it (ptrace, every thread)
#   elsewhere: `dd if=/dev/zero of=/dev/null bs=1 count=COUNT` outside the unit (two system
#   calls per byte: the BPF program's early return for every other task, at its worst):
#     plain      no recorder attached
#     learn      while `sandgen learn` records the (idle) unit
# Prints medians and ratios. No assertion on timings: the results go into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-5}
REQUESTS=${2:-5000}
COUNT=${3:-200000}
# shellcheck source=benches/lane.sh
. benches/lane.sh
NAME=sandgen-bench-learn-$$
UNIT=sandgen-bench-http.service
PORT=18765

command -v ab >/dev/null || apt-get install -y --no-install-recommends apache2-utils >&2
cargo build --release --locked -q
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/sandgen
trap '"$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
lane_up

say() { echo "benches/learn.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The service: python3's threading HTTP server on loopback, serving a 4 KiB file.
inside sh -c "mkdir -p /run/bench-www && head -c 4096 /dev/urandom > /run/bench-www/f &&
  printf '%s\n' '[Service]' \
    'ExecStart=/usr/bin/python3 -m http.server $PORT --bind 127.0.0.1 --directory /run/bench-www' 'StandardError=null' \
    > /etc/systemd/system/$UNIT && systemctl daemon-reload && systemctl start $UNIT"
URL=http://127.0.0.1:$PORT/f
for _ in $(seq 200); do
  inside ab -q -n 1 "$URL" >/dev/null 2>&1 && break
  sleep 0.05
done
inside ab -q -n 1 "$URL" >/dev/null 2>&1 || die "the server does not answer on $URL"
MAINPID=$(inside systemctl show -p MainPID --value "$UNIT")

# Requests per second of one ab run; fails the benchmark when a request failed.
rps() {
  local out
  out=$(inside ab -q -n "$REQUESTS" -c 4 "$URL" 2>&1) || die "ab failed: $out"
  grep -q '^Failed requests: *0$' <<<"$out" || die "ab: requests failed: $out"
  awk '/^Requests per second:/ { print $4 }' <<<"$out"
}
# One dd inside, in µs (the clock runs inside: nsenter's start-up is not counted).
dd_us() {
  inside bash -c 's=$(date +%s%N); dd if=/dev/zero of=/dev/null bs=1 count='"$COUNT"' 2>/dev/null;
    e=$(date +%s%N); echo $(( (e - s) / 1000 ))'
}
# Run a tracer in the background inside, its PID (inside) in FILE, its stderr on the host in
# $TMPD/NAME.err; wait until that says it is attached.
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"; "$HARNESS" down "$NAME" >/dev/null 2>&1 || true' EXIT
background() {
  local name=$1 ready=$2; shift 2
  inside sh -c 'echo $$ > /run/bench-'"$name"'.pid; exec "$@"' sh "$@" 2>"$TMPD/$name.err" >/dev/null &
  for _ in $(seq 600); do
    grep -q "$ready" "$TMPD/$name.err" 2>/dev/null && return 0
    sleep 0.05
  done
  die "$name did not attach: $(cat "$TMPD/$name.err")"
}
# SIGINT to a background tracer (by the PID it wrote), and wait for it to end.
stop() {
  inside sh -c 'kill -INT "$(cat /run/bench-'"$1"'.pid)"'
  wait
}

declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
for r in $(seq "$ROUNDS"); do
  add plain "$(rps)"
  add ddplain "$(dd_us)"
  background learn "sandgen: recording" "$BIN" learn "$UNIT" --profile-dir /run/bench-profiles
  add learn "$(rps)"
  add ddlearn "$(dd_us)"
  stop learn
  background strace "attached" strace -f -p "$MAINPID" -o /dev/null
  add strace "$(rps)"
  stop strace
  say "round $r/$ROUNDS: req/s untraced ${T[plain]##* }, learn ${T[learn]##* }, strace ${T[strace]##* }; dd µs plain ${T[ddplain]##* }, learn attached ${T[ddlearn]##* }"
done
[ "$(inside systemctl show -p MainPID --value "$UNIT")" = "$MAINPID" ] ||
  die "the server's main PID changed during the benchmark"
inside sh -c "systemctl stop $UNIT; rm -f /etc/systemd/system/$UNIT; rm -rf /run/bench-www /run/bench-profiles /run/bench-*.pid"

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m}'; }
m() { echo "${T[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.3f", a / 1000000 }'; }
echo "rounds: $ROUNDS (medians, measured inside $LANE)"
echo "python3 -m http.server as a unit, ab -n $REQUESTS -c 4 (4 KiB file over loopback)"
printf '%-52s %10s %8s\n' "what" "req/s" "vs untraced"
printf '%-52s %10s %8s\n' "untraced" "$(m plain)" "1x"
printf '%-52s %10s %8s\n' "sandgen learn attached (BPF, whole cgroup)" "$(m learn)" "$(ratio "$(m learn)" "$(m plain)")"
printf '%-52s %10s %8s\n' "strace -f -p MAINPID attached" "$(m strace)" "$(ratio "$(m strace)" "$(m plain)")"
echo "dd if=/dev/zero of=/dev/null bs=1 count=$COUNT outside the unit"
printf '%-52s %10s %8s\n' "what" "seconds" "vs plain"
printf '%-52s %10s %8s\n' "no recorder" "$(secs "$(m ddplain)")" "1x"
printf '%-52s %10s %8s\n' "while sandgen learn records the server" "$(secs "$(m ddlearn)")" "$(ratio "$(m ddlearn)" "$(m ddplain)")"
