#!/bin/bash
# benches/host.sh - `--host` over SSH beside `systemctl -H`, and a fleet run beside one
# run per host in sequence.
#
#   benches/host.sh [ROUNDS] [HOSTS]     (as root; default 5 rounds, 4 hosts)
#
# Boots the systemd 252 test container (tests/harness/systemd-container.sh), starts an sshd
# in it on a loopback port with keys made for the run, builds sandgen in release mode, and
# times from this side, interleaved round by round (medians):
#   systemctl -H box start UNIT            systemd's own remote start (the same ssh)
#   sandgen -H box start UNIT --settle 0   the start job alone, as systemctl waits for it
#   sandgen -H box start UNIT              the default: also watches the unit 0.1 s
#   systemctl -H box status UNIT / sandgen -H box status UNIT
# (the unit is stopped before each start, untimed). Then the fleet: `sandgen -H box1 ...
# -H boxN status UNIT` against N `sandgen -H boxI status UNIT` one after the other. The N
# hosts are N names of the one sshd: N connections and logins, one machine, so the
# comparison shows what running hosts side by side saves in waiting on SSH and D-Bus.
# No assertion on timings: the results are recorded in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-5}
HOSTS=${2:-4}
HARNESS=tests/harness/systemd-container.sh
NAME=sandgen-bench-host-$$
UNIT=sandgen-bench-remote
LANE_LABEL="the container (systemd 252, host cgroups)"

cargo build --release --locked -q
BIN=$PWD/target/release/sandgen
WORK=$(mktemp -d)
cleanup() {
  "$HARNESS" down "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$("$HARNESS" up "$NAME")"
R=$SANDGEN_TEST_ROOT
inside() { nsenter -t "$SANDGEN_TEST_INIT_PID" -a -- "$@"; }

# sshd inside, keys and an ssh config outside.
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/client"
mkdir -p "$R/etc/sandgen-bench-ssh"
cp "$WORK/host" "$R/etc/sandgen-bench-ssh/host"
cp "$WORK/client.pub" "$R/etc/sandgen-bench-ssh/authorized_keys"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "[127.0.0.1]:$PORT $(cat "$WORK/host.pub")" > "$WORK/known_hosts"
for h in box $(seq -f 'box%g' "$HOSTS"); do
  printf 'Host %s\n  HostName 127.0.0.1\n  Port %s\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n' \
    "$h" "$PORT" "$WORK/client" "$WORK/known_hosts"
done > "$WORK/config"
# systemctl -H runs `ssh` from PATH (systemd 252 has no $SYSTEMD_SSH): both tools get this
# wrapper as the first `ssh` in PATH.
mkdir "$WORK/bin"
printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$WORK/config" > "$WORK/bin/ssh"
chmod 755 "$WORK/bin/ssh"
export PATH=$WORK/bin:$PATH
inside systemd-run -q --unit sandgen-bench-sshd -p RuntimeDirectory=sshd /usr/sbin/sshd -D -e \
  -f /dev/null -p "$PORT" -o ListenAddress=127.0.0.1 -o HostKey=/etc/sandgen-bench-ssh/host \
  -o AuthorizedKeysFile=/etc/sandgen-bench-ssh/authorized_keys -o PermitRootLogin=prohibit-password \
  -o StrictModes=no -o UsePAM=no -o PidFile=none
until ssh box true 2>/dev/null; do sleep 0.1; done

printf '[service]\nname = "%s"\nexec = ["/bin/sleep", "infinity"]\n\n[seccomp]\nallow = ["@system-service"]\n' \
  "$UNIT" > "$WORK/$UNIT.toml"
"$BIN" -q -H box install "$WORK/$UNIT.toml"

now() { date +%s%N; }
declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
timed() { # NAME CMD...: time CMD in µs, fail the benchmark if it fails
  local name=$1 s e; shift
  s=$(now); "$@" >/dev/null 2>&1 || { echo "benches/host.sh: $* failed" >&2; exit 1; }; e=$(now)
  add "$name" $(( (e - s) / 1000 ))
}
stop() { systemctl -q -H box stop "$UNIT"; }
HOSTARGS=()
for h in $(seq -f 'box%g' "$HOSTS"); do HOSTARGS+=(-H "$h"); done
sequential() { for h in $(seq -f 'box%g' "$HOSTS"); do "$BIN" -q -H "$h" status "$UNIT" >/dev/null || return 1; done; }

for r in $(seq "$ROUNDS"); do
  stop; timed systemctl-start systemctl -H box start "$UNIT"
  stop; timed sandgen-start-0 "$BIN" -q -H box start "$UNIT" --settle 0
  stop; timed sandgen-start "$BIN" -q -H box start "$UNIT"
  timed systemctl-status systemctl -H box --no-pager status "$UNIT"
  timed sandgen-status "$BIN" -q -H box status "$UNIT"
  timed fleet "$BIN" -q "${HOSTARGS[@]}" status "$UNIT"
  timed sequential sequential
  echo "round $r/$ROUNDS done" >&2
done
stop
"$BIN" -q -H box uninstall "$UNIT" >/dev/null

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f", m / 1000000}'; }
m() { echo "${T[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "--host over SSH to $LANE_LABEL; rounds: $ROUNDS (medians, seconds)"
printf '%-48s %9s %9s\n' "what" "seconds" "ratio"
printf '%-48s %9s %9s\n' "systemctl -H box start UNIT" "$(m systemctl-start)" "1x"
printf '%-48s %9s %9s\n' "sandgen -H box start UNIT --settle 0" "$(m sandgen-start-0)" "$(ratio "$(m sandgen-start-0)" "$(m systemctl-start)")"
printf '%-48s %9s %9s\n' "sandgen -H box start UNIT (watches 0.1 s)" "$(m sandgen-start)" "$(ratio "$(m sandgen-start)" "$(m systemctl-start)")"
printf '%-48s %9s %9s\n' "systemctl -H box status UNIT" "$(m systemctl-status)" "1x"
printf '%-48s %9s %9s\n' "sandgen -H box status UNIT" "$(m sandgen-status)" "$(ratio "$(m sandgen-status)" "$(m systemctl-status)")"
printf '%-48s %9s %9s\n' "$HOSTS x sandgen -H boxI status UNIT, in sequence" "$(m sequential)" "1x"
printf '%-48s %9s %9s\n' "sandgen -H box1 .. -H box$HOSTS status UNIT (fleet)" "$(m fleet)" "$(ratio "$(m fleet)" "$(m sequential)")"
