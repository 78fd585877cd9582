#!/bin/bash
# systemd-container.sh - boot a real systemd (the host's systemd 252) as PID 1 of a
# systemd-nspawn container, so sandgen's tests can start sandboxed services and check
# from the kernel's side that the sandbox is in force. For hosts whose PID 1 is not
# systemd (Debian 12 CI machines), with hybrid (v1 controllers) or pure v2 cgroups.
#
# The container's root is an overlay: lower = the host's /, upper = a tmpfs, so it
# has the host's binaries and toolchain and costs ~35 MB. The overlay shows lower
# files as they were when first looked up: a file the host creates LATER (a freshly
# built binary in target/) may stay invisible (cached negative lookup; measured). So
# the checkout and $CARGO_TARGET_DIR are bind-mounted live into the container.
#
#   systemd-container.sh up NAME         boot; prints the `env` lines on stdout
#   systemd-container.sh down NAME       stop and remove everything (idempotent; also
#                                        after a crash or a half-finished `up`)
#   systemd-container.sh exec NAME CMD.. run CMD inside the container (all namespaces,
#                                        clean environment, cwd /)
#   systemd-container.sh env NAME        shell-evaluable SANDGEN_TEST_* lines:
#        SANDGEN_TEST_CONTAINER  the name
#        SANDGEN_TEST_INIT_PID   host PID of the container's systemd
#        SANDGEN_TEST_BUS        system bus address usable from the host (the dbus-daemon
#                                socket; systemd's private socket refuses host clients)
#        SANDGEN_TEST_ROOT       the overlay root as seen from the host (write units to
#                                etc/systemd/system here; bind mounts are not under it)
#        SANDGEN_TEST_SYSTEMD    the major version of the systemd it boots
#   systemd-container.sh list            names of containers with any state left
#   systemd-container.sh deps            apt-get install what is missing (needs root)
#
# Env: SANDGEN_HARNESS_DIR      state directory (default /tmp/sandgen-harness)
#      SANDGEN_HARNESS_TIMEOUT  seconds `up` may take before it fails (default 60)
#      SANDGEN_HARNESS_BIND     extra host directories (space separated) to bind at the
#                               same path
#
# Seen from inside, the container is a normal machine: systemctl, journalctl and busctl
# work, MainPIDs are valid /proc PIDs. Seen from the host, D-Bus MainPIDs are container
# PIDs (translate with NSpid in /proc/PID/status) and processes entered with
# `nsenter -a` stay in the caller's cgroups, outside the container's.
#
# Tests that start the same unit several times in a row hit systemd's start rate limit
# (StartLimitBurst=5 per 10 s => Result=start-limit-hit): give such units
# StartLimitIntervalSec=0 in [Unit] or `systemctl reset-failed` between starts. The
# container keeps systemd's defaults otherwise, on purpose: units are tested as they
# would run on a user's machine.
set -euo pipefail

BASE=${SANDGEN_HARNESS_DIR:-/tmp/sandgen-harness}
TIMEOUT=${SANDGEN_HARNESS_TIMEOUT:-60}
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONTAINER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# openssh-server and -client: the --host tests reach the container's systemd over SSH (an
# sshd the tests start; the container boots to basic.target, so the package's ssh.service
# stays off). man-db: tests/package.rs installs sandgen's Debian package and asks `man -w`
# for its pages.
PACKAGES=(systemd-container dbus strace busybox-static openssh-server openssh-client man-db)

say() { echo "systemd-container: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fs", b - a }'; }

set_name() {
  N=${1:-}
  [[ $N =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$ ]] ||
    die "bad or missing container NAME '${N}' (letters, digits, _ and -, at most 48)"
  D=$BASE/$N              # tmpfs: upper/, work/ and the overlay mounted at root/
  R=$D/root
  PIDFILE=$BASE/$N.pid    # systemd-nspawn's PID
  LOG=$BASE/$N.log        # systemd-nspawn's output and the container's console
  CG=sandgen-harness-$N   # cgroup name in every hierarchy; also the mounts' source
}

# Mount points of the host's cgroup hierarchies: one cgroup2 on a pure v2 host; the v1
# controllers, name=systemd and "unified" on a hybrid one.
cgroup_hierarchies() { findmnt -rn -t cgroup,cgroup2 -o TARGET | grep '^/sys/fs/cgroup' || true; }

# A process that runs (not a zombie: nspawn's parent is gone, and the host's PID 1 may
# be slow to reap what it inherits).
alive() { local st; st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }

nspawn_pid() {   # PID of our systemd-nspawn, if it is running (checked: PIDs get reused)
  local np
  np=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ "$(cat "/proc/$np/comm" 2>/dev/null)" = systemd-nspawn ] && alive "$np" || return 1
  echo "$np"
}

init_pid() {     # host PID of the container's PID 1: the nspawn child that is PID 1 in its namespace
  local np c kids=()
  np=$(nspawn_pid) || return 1
  read -r -a kids < "/proc/$np/task/$np/children" 2>/dev/null || true
  for c in "${kids[@]}"; do
    [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$c/status" 2>/dev/null)" = 1 ] && { echo "$c"; return 0; }
  done
  return 1
}

running_init_pid() {
  local p
  p=$(init_pid) || die "container $N is not running (start it with: $0 up $N)"
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] || die "container $N: PID 1 ($p) is not systemd"
  echo "$p"
}

# Run a command inside the container: all its namespaces, a clean environment.
in_container() {
  local p=$1; shift
  exec nsenter -t "$p" -a -- env -i PATH="$CONTAINER_PATH" HOME=/root LANG=C.UTF-8 ${TERM:+TERM="$TERM"} "$@"
}

print_env() {
  printf 'SANDGEN_TEST_CONTAINER=%q\n' "$N"
  printf 'SANDGEN_TEST_INIT_PID=%q\n' "$1"
  printf 'SANDGEN_TEST_BUS=%q\n' "unix:path=/proc/$1/root/run/dbus/system_bus_socket"
  printf 'SANDGEN_TEST_ROOT=%q\n' "$R"
  # The systemd it boots is the host's: tests check that this is the one that answers.
  printf 'SANDGEN_TEST_SYSTEMD=%q\n' "$(systemctl --version | awk 'NR == 1 { print $2 }')"
}

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

cmd_deps() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do package_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root to install them"
  say "installing ${missing[*]} with apt-get (systemd-container also upgrades systemd within 252)"
  local log; log=$(mktemp)
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "apt-get could not install ${missing[*]}"
  fi
  rm -f "$log"
}

# Write the container's own configuration into the overlay's upper layer.
configure_root() {
  # Own machine-id: dbus and journald want a unique one; nspawn refuses to link journals
  # of two machines with the same id.
  systemd-id128 new > "$R/etc/machine-id"
  # Boot to basic.target only, so the host's enabled services (getty, postgresql,
  # e2scrub, ...) stay off; mask what basic.target would still pull in and what is slow
  # or useless here (timers => apt-daily, man-db...; time sync; pstore).
  ln -sfn /lib/systemd/system/basic.target "$R/etc/systemd/system/default.target"
  local u
  for u in timers.target systemd-timesyncd.service systemd-pstore.service \
           e2scrub_reap.service apt-daily.service apt-daily-upgrade.service \
           man-db.service dpkg-db-backup.service fstrim.service e2scrub_all.service; do
    ln -sfn /dev/null "$R/etc/systemd/system/$u"
  done
  # Bound how long `down` can take if a unit under test ignores SIGTERM.
  mkdir -p "$R/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultTimeoutStopSec=10s\n' > "$R/etc/systemd/system.conf.d/sandgen-harness.conf"
  # The journal lives in memory: nothing to flush to the overlay.
  mkdir -p "$R/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' > "$R/etc/systemd/journald.conf.d/sandgen-harness.conf"
}

# Give the calling (sub)shell its own cgroup in EVERY hierarchy. It becomes the root of
# the container's cgroup tree: nspawn (--keep-unit, no host systemd) creates payload/
# and supervisor/ under it instead of the host's root cgroup, and `down` can find and
# kill every process that belongs to the container.
enter_own_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    mkdir -p "$h/$CG"
    if [ -e "$h/cpuset.cpus" ] && [ -z "$(cat "$h/$CG/cpuset.cpus")" ]; then
      # a v1 cpuset cgroup refuses tasks (ENOSPC) until cpus and mems are set
      cat "$h/cpuset.cpus" > "$h/$CG/cpuset.cpus"
      cat "$h/cpuset.mems" > "$h/$CG/cpuset.mems"
    fi
    echo "$BASHPID" > "$h/$CG/cgroup.procs"
  done
}

spawn_nspawn() {
  local dirs=("$CHECKOUT") binds=() d
  if [ -n "${CARGO_TARGET_DIR:-}" ] && [ -d "$CARGO_TARGET_DIR" ]; then
    dirs+=("$(cd "$CARGO_TARGET_DIR" && pwd)")
  fi
  for d in ${SANDGEN_HARNESS_BIND:-}; do dirs+=("$d"); done
  for d in $(printf '%s\n' "${dirs[@]}" | sort -u); do binds+=(--bind="$d"); done
  # PID 1 is a tiny wrapper: nspawn mounts the v1 controller hierarchies READ-ONLY, and
  # systemd then silently applies no MemoryMax/CPUWeight/TasksMax at all. Remount them
  # read-write, then exec systemd, which stays PID 1.
  # shellcheck disable=SC2016 # expanded by the container's /bin/sh
  local wrapper='for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
    mount -o remount,bind,rw "$m" || echo "sandgen harness: cannot remount $m rw" >&2; done
  exec /lib/systemd/systemd'
  (
    enter_own_cgroups
    # --register=no --keep-unit: there is no host systemd or machined to talk to.
    # --capability=all: else nspawn cuts CAP_NET_ADMIN, CAP_SYS_MODULE... from the
    #   bounding set, and a unit's CapBnd would not be what it asked for.
    # SYSTEMD_SECCOMP=0 (read by nspawn only): else nspawn puts its own seccomp filter
    #   on every process, and every service shows "Seccomp: 2" with or without a filter.
    # --kill-signal=SIGRTMIN+3: a SIGTERM to nspawn becomes a clean systemd shutdown
    #   (the default without --boot would be SIGKILL); `down` does not wait for one.
    # setsid: a Ctrl-C in the caller's terminal must not hit nspawn; `down` stops it.
    exec env SYSTEMD_SECCOMP=0 setsid systemd-nspawn -D "$R" -M "$N" \
      --register=no --keep-unit --capability=all --link-journal=no \
      --console=read-only --kill-signal=SIGRTMIN+3 "${binds[@]}" \
      /bin/sh -c "$wrapper"
  ) > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  disown
}

# `up` failed: say why, show what nspawn printed and what systemd was doing. The EXIT
# trap set in cmd_up then removes the half-started container.
fail_up() {
  local p
  say "error: container $N did not come up: $1"
  if p=$(init_pid) && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
    say "--- jobs and failed units in the container"
    timeout 5 nsenter -t "$p" -a systemctl list-jobs --no-pager >&2 || true
    timeout 5 nsenter -t "$p" -a systemctl --failed --no-pager >&2 || true
  fi
  say "--- systemd-nspawn output ($LOG)"
  tail -n 60 "$LOG" >&2 2>/dev/null || true
  exit 1
}

# EXIT trap of cmd_up: a failed or interrupted `up` removes what it had set up.
# shellcheck disable=SC2317 # called as a trap
up_exit() {
  local rc=$?
  trap - EXIT
  if [ "$rc" != 0 ]; then say "removing the half-started container $N"; cmd_down || true; fi
  exit "$rc"
}

# Seconds left before the deadline, at least 1 (`timeout 0` would mean no timeout).
remaining() { local l=$(( DEADLINE - $(date +%s) )); echo $(( l > 0 ? l : 1 )); }
expired() { [ "$(date +%s)" -ge "$DEADLINE" ]; }

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root (systemd-nspawn, mounts, cgroups)"
  local t0 t1 t2 t3 p st spawned bus
  t0=$(now)
  DEADLINE=$(( $(date +%s) + TIMEOUT ))
  nspawn_pid >/dev/null && die "container $N is already up (stop it with: $0 down $N)"
  cmd_deps
  command -v systemd-nspawn >/dev/null || die "systemd-nspawn not found after installing systemd-container"
  cmd_down   # leftovers of a crashed run with the same name
  # From here on, any failure or interruption removes what was set up so far.
  trap up_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  mkdir -p "$D"
  mount -t tmpfs -o size=4G,mode=755 "$CG" "$D"
  mkdir -p "$D/upper" "$D/work" "$R"
  mount -t overlay "$CG" -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$R"
  configure_root
  t1=$(now)
  spawn_nspawn
  spawned=$(cat "$PIDFILE")

  while :; do   # PID 1 of the container has exec'd systemd
    p=$(init_pid || true)
    [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && break
    alive "$spawned" || fail_up "systemd-nspawn exited"
    expired && fail_up "PID 1 is not systemd after ${TIMEOUT}s"
    sleep 0.05
  done
  # systemctl needs the private socket; is-system-running --wait before it exists fails
  until [ -S "/proc/$p/root/run/systemd/private" ]; do
    alive "$p" || fail_up "systemd exited"
    expired && fail_up "no /run/systemd/private after ${TIMEOUT}s"
    sleep 0.05
  done
  st=$(timeout "$(remaining)" nsenter -t "$p" -a systemctl is-system-running --wait 2>&1) || true
  case "$st" in
    running) ;;
    degraded) say "warning: the container's system is degraded:"
              nsenter -t "$p" -a systemctl --failed --no-pager >&2 || true ;;
    *) fail_up "system state is '${st:-starting}', not running, after waiting up to ${TIMEOUT}s" ;;
  esac
  t2=$(now)
  # dbus.socket is up with basic.target; start the daemon now rather than on the first
  # client, and wait until systemd has its name on the bus.
  timeout "$(remaining)" nsenter -t "$p" -a systemctl start dbus.service >&2 ||
    fail_up "dbus.service did not start"
  bus="unix:path=/proc/$p/root/run/dbus/system_bus_socket"
  until busctl --address="$bus" --timeout=2 call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
          org.freedesktop.DBus.Peer Ping >/dev/null 2>&1; do
    expired && fail_up "org.freedesktop.systemd1 does not answer on $bus after ${TIMEOUT}s"
    sleep 0.05
  done
  t3=$(now)
  trap - EXIT INT TERM
  say "$N up in $(elapsed "$t0" "$t1") overlay + $(elapsed "$t1" "$t2") boot + $(elapsed "$t2" "$t3") bus = $(elapsed "$t0" "$t3") (init pid $p)"
  print_env "$p"
}

cgroup_procs() {   # every PID in our cgroups, in every hierarchy
  local h
  for h in $(cgroup_hierarchies); do
    if [ -d "$h/$CG" ]; then find "$h/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
  done | sort -u
}

cmd_down() {
  local p np pids h m left=()
  # 1. Nothing in the container is worth a clean shutdown (~2 s; its disk is a tmpfs
  #    about to go): SIGKILL its PID 1, the kernel kills the rest of its PID namespace,
  #    and nspawn exits when it sees its child die.
  if p=$(init_pid); then kill -KILL "$p" 2>/dev/null || true; fi
  if np=$(nspawn_pid); then
    for _ in $(seq 100); do alive "$np" || break; sleep 0.05; done
    kill -KILL "$np" 2>/dev/null || true
  fi
  # 2. whatever is left in our cgroups (nspawn killed, `up` interrupted, shutdown hung)
  for _ in $(seq 100); do
    pids=$(cgroup_procs)
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.05
  done
  # 3. the cgroups, deepest first (the container's systemd made its own below ours)
  for h in $(cgroup_hierarchies); do
    if [ -d "$h/$CG" ]; then find "$h/$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    [ -d "$h/$CG" ] && left+=("cgroup $h/$CG")
  done
  # nspawn leaves this behind when the host's /run is not a tmpfs. (The shared, empty
  # /run/systemd/nspawn/{locks,propagate} stay: another container may be starting.)
  rmdir "/run/systemd/nspawn/propagate/$N" 2>/dev/null || true
  # 4. the mounts: the overlay, the tmpfs, anything a crash left under them
  for m in $(findmnt -rn -o TARGET | grep -E "^$D(/|\$)" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  while read -r m; do left+=("mount $m"); done < <(findmnt -rn -o TARGET | grep -E "^$D(/|\$)" || true)
  # 5. state files
  rm -f "$PIDFILE" "$LOG"
  rmdir "$D" 2>/dev/null || true
  rmdir "$BASE" 2>/dev/null || true
  [ ${#left[@]} = 0 ] || die "container $N: could not remove: ${left[*]}"
}

cmd_list() {
  local f h
  {
    for f in "$BASE"/*; do
      if [ -e "$f" ]; then basename "$f" | sed -E 's/\.(pid|log)$//'; fi
    done
    for h in $(cgroup_hierarchies); do
      for f in "$h"/sandgen-harness-*; do
        if [ -d "$f" ]; then basename "$f" | sed 's/^sandgen-harness-//'; fi
      done
    done
  } | sort -u
}

case "${1:-}" in
  up)   set_name "${2:-}"; cmd_up ;;
  down) set_name "${2:-}"; cmd_down ;;
  exec) set_name "${2:-}"; [ $# -ge 3 ] || die "usage: $0 exec NAME CMD..."
        p=$(running_init_pid); shift 2; in_container "$p" "$@" ;;
  env)  set_name "${2:-}"; p=$(running_init_pid); print_env "$p" ;;
  list) cmd_list ;;
  deps) cmd_deps ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
