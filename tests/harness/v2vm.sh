#!/bin/bash
# v2vm.sh - boot a real systemd 257 (Debian 13 "trixie") as PID 1 of a qemu guest on pure
# cgroup v2, so sandgen's tests can run where most users are: the second lane beside the
# systemd 252 container of systemd-container.sh.
#
# Every package comes from the Debian registry this host already uses (the URI is read from
# its apt sources at run time; the bookworm keyring verifies trixie). The guest runs the
# test binaries built on the host, from 9p shares mounted at the same paths as on the host:
# inside it is a normal machine with systemd as PID 1 (PID 1's bus, PID 1's /proc).
#
#   v2vm.sh up NAME [DIR...]   start guest NAME; mount each host DIR (at most 2) at the same
#                              path inside; prints the SANDGEN_TEST_* lines for use INSIDE
#   v2vm.sh exec NAME [--cwd DIR] -- CMD [ARG...]
#                              run CMD in the guest as root, with those variables, a clean
#                              PATH and cwd DIR (default /); its output, and its status
#   v2vm.sh env NAME           the SANDGEN_TEST_* lines (valid inside the guest): the
#                              same variables as systemd-container.sh's, for a machine
#                              whose PID 1 is systemd: INIT_PID=1, ROOT=/, the system bus,
#                              SANDGEN_TEST_SYSTEMD the major version of the guest's systemd
#   v2vm.sh down NAME          stop it and remove its state (idempotent)
#   v2vm.sh list               names of guests with any state left
#   v2vm.sh image              build the image now if it is missing or its recipe changed
#   v2vm.sh deps               apt-get install qemu and mmdebstrap when missing (needs root)
#
# Speed: the image is built once (mmdebstrap, ~1 min) and the booted guest saved once
# (~30 s under emulation); both are cached in $SANDGEN_V2VM_CACHE, keyed by the recipe
# below and the machine settings, so `up` restores a running guest in seconds. Change the
# recipe (packages, build steps) and the next `up` rebuilds them.
#
# Acceleration: KVM only where /dev/kvm is a real one (the CPU has vmx/svm and kvm_intel
# or kvm_amd is loaded). Hosts with a paravirtual /dev/kvm (PVM) cannot boot a stock
# kernel, so everywhere else the guest runs under qemu's software emulation (TCG), about
# ten times slower than the host: tests must wait for states, never for times.
#
# Env: SANDGEN_V2VM_CACHE    image and saved guest (default /var/cache/sandgen-v2vm)
#      SANDGEN_V2VM_RUNS     per-guest state: sockets, pid, console log (default
#                            /run/sandgen-v2vm)
#      SANDGEN_V2VM_ACCEL    kvm or tcg, to override the detection
#      SANDGEN_V2VM_TIMEOUT  seconds a boot or restore may take (default 300)
#      SANDGEN_V2VM_EXEC_TIMEOUT  seconds one `exec` may take (default 1800)
set -euo pipefail

CACHE=${SANDGEN_V2VM_CACHE:-/var/cache/sandgen-v2vm}
RUNS=${SANDGEN_V2VM_RUNS:-/run/sandgen-v2vm}
TIMEOUT=${SANDGEN_V2VM_TIMEOUT:-300}
EXEC_TIMEOUT=${SANDGEN_V2VM_EXEC_TIMEOUT:-1800}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMCTL=(python3 "$HERE/vmctl.py")
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The machine. Two CPUs: the cpuset demos pin two heaters to different CPUs. The saved
# guest is only valid for the settings it was saved with: they are part of its key.
CPUS=2
MEM=1536
SHARES=2
CMDLINE="console=ttyS0 root=/dev/vda rw quiet panic=-1 systemd.unified_cgroup_hierarchy=1"

# What the guest has: systemd and its bus, a kernel with 9p and virtio, the guest agent,
# and what the tests run inside (strace for suggest, a static busybox for the chroot demo,
# python3 with its standard library for the workloads of the suggest tests, sshd and ssh
# for the --host tests, which reach the machine's systemd over SSH, apparmor_parser to load
# the profile of the AppArmor demo, iproute2's ip for the ambient capability demo).
PACKAGES=(systemd systemd-sysv dbus udev kmod procps initramfs-tools linux-image-amd64
  qemu-guest-agent strace busybox-static python3 openssh-server openssh-client
  apparmor iproute2)

say() { echo "v2vm: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

# The Debian mirror this host's apt uses (deb822 or one-line sources).
debian_uri() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt/sources.list(.d)"
  echo "$uri"
}

# The image recipe: a trixie root file system with PACKAGES, set up to boot quietly and
# the same way every time ($1: the directory to build it in).
build_rootfs() {
  local root=$1 uri
  uri=$(debian_uri)
  mmdebstrap --mode=root --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"
        echo MODULES=list > "$1/etc/initramfs-tools/conf.d/sandgen.conf"
        printf "%s\n" virtio_pci virtio_blk virtio_console ext4 9p 9pnet_virtio \
          > "$1/usr/share/initramfs-tools/modules.d/sandgen"' \
    trixie "$root" "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main"
  echo sandgen-v2vm > "$root/etc/hostname"
  echo '/dev/vda / ext4 rw,noatime 0 0' > "$root/etc/fstab"
  # No network and no sources inside: the guest never fetches anything.
  : > "$root/etc/apt/sources.list"
  # Nothing scheduled runs behind the tests' backs.
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
              fstrim.timer e2scrub_reap.service; do
    ln -sfn /dev/null "$root/etc/systemd/system/$unit"
  done
  # No first-boot or ConditionNeedsUpdate= work at each boot.
  chroot "$root" systemd-machine-id-setup >/dev/null 2>&1
  chroot "$root" journalctl --update-catalog
  touch "$root/etc/.updated" "$root/var/.updated"
}

deps() {
  local missing=() p
  for p in qemu-system-x86 mmdebstrap e2fsprogs python3; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root to install them"
  say "installing ${missing[*]} with apt-get"
  local log; log=$(mktemp)
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "apt-get could not install ${missing[*]}"
  fi
  rm -f "$log"
}

accel() {
  if [ -n "${SANDGEN_V2VM_ACCEL:-}" ]; then
    echo "$SANDGEN_V2VM_ACCEL"
  elif [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo &&
       { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
    echo kvm
  else
    echo tcg
  fi
}

# TCG's options. One host thread runs both vCPUs (thread=single): with a thread per vCPU
# (MTTCG) qemu 7.2 crashed the guest once and a sandgen once segfaulted inside it, in runs
# that passed otherwise; one thread is slower and has not shown either.
TCG_OPTS="tcg,thread=single,tb-size=128"

hash16() { sha256sum | cut -c1-16; }
image_key() { { declare -f build_rootfs; printf '%s\n' "${PACKAGES[@]}"; } | hash16; }
IMAGE=$CACHE/image-$(image_key)
ACCEL=$(accel)
SNAP=$IMAGE/saved-$(printf '%s\n' "$ACCEL" "$TCG_OPTS" "$CPUS" "$MEM" "$SHARES" "$CMDLINE" | hash16)

# Build the image unless the cached one is for this recipe. Old images are removed.
image() {
  [ -s "$IMAGE/root.img" ] && return 0
  deps
  local t0 tmp; t0=$(now); tmp=$IMAGE.tmp
  say "building the trixie image in $IMAGE (once per recipe)"
  rm -rf "$tmp"; mkdir -p "$tmp"
  build_rootfs "$tmp/root" > "$tmp/build.log" 2>&1 || {
    tail -30 "$tmp/build.log" >&2; die "mmdebstrap failed (log: $tmp/build.log)"; }
  chroot "$tmp/root" dpkg-query -W > "$tmp/manifest.txt"
  cp -L "$tmp/root/vmlinuz" "$tmp/vmlinuz"
  cp -L "$tmp/root/initrd.img" "$tmp/initrd.img"
  mkfs.ext4 -q -L sandgen -d "$tmp/root" "$tmp/root.img" 2G >/dev/null
  rm -rf "$tmp/root"
  find "$CACHE" -maxdepth 1 -name 'image-*' ! -name "$(basename "$IMAGE")*" -exec rm -rf {} +
  mv "$tmp" "$IMAGE"
  say "image built in $(elapsed "$t0" "$(now)"): $(grep -E '^(systemd|linux-image-[0-9])' "$IMAGE/manifest.txt" | tr '\t\n' '  ')"
}

# qemu's command line for run directory $1, disk $2 (writable when $3 = off), shares $4...
qemu_command() {
  local run=$1 disk=$2 snapshot=$3 cpu=qemu64 accel_opt
  shift 3
  accel_opt=$ACCEL
  if [ "$ACCEL" = kvm ]; then cpu=host; else accel_opt=$TCG_OPTS; fi
  Q=(qemu-system-x86_64 -name sandgen-v2vm -machine q35 -accel "$accel_opt" -cpu "$cpu"
     -smp "$CPUS" -m "$MEM" -nodefaults -display none -no-reboot
     -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" -append "$CMDLINE"
     -drive "file=$disk,if=virtio,format=raw,snapshot=$snapshot"
     -serial "file:$run/console.log"
     -device virtio-serial-pci
     -chardev "socket,id=qga0,path=$run/qga.sock,server=on,wait=off"
     -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0
     -qmp "unix:$run/qmp.sock,server=on,wait=off" -pidfile "$run/qemu.pid")
  local i=0 dir
  for dir in "$@"; do
    Q+=(-virtfs "local,path=$dir,mount_tag=share$i,security_model=none")
    i=$((i + 1))
  done
}

# Start qemu in the background in its own session: stdout/stderr to $1/qemu.log.
launch() {
  local run=$1; shift
  rm -f "$run/qga.sock" "$run/qmp.sock" "$run/qemu.pid"
  setsid "${Q[@]}" "$@" </dev/null >"$run/qemu.log" 2>&1 &
  local _
  for _ in $(seq 200); do
    [ -S "$run/qmp.sock" ] && [ -s "$run/qemu.pid" ] && return 0
    kill -0 $! 2>/dev/null || break
    sleep 0.05
  done
  cat "$run/qemu.log" >&2
  return 1
}

qmp() { "${VMCTL[@]}" qmp "$1/qmp.sock" "${@:2}"; }
running() { [ -s "$1/qemu.pid" ] && kill -0 "$(cat "$1/qemu.pid")" 2>/dev/null; }

# Quit the qemu of run directory $1, and kill it if it does not go.
quit() {
  local run=$1 pid _
  running "$run" || return 0
  pid=$(cat "$run/qemu.pid")
  qmp "$run" quit >/dev/null 2>&1 || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
}

# A QMP status field, polled until it is one of the given values; prints it.
wait_qmp() { # RUN COMMAND FIELD SECS VALUE...
  local run=$1 command=$2 field=$3 secs=$4 value deadline
  shift 4
  deadline=$(( $(date +%s) + secs ))
  while :; do
    value=$(qmp "$run" "$command" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$field', ''))")
    local v; for v in "$@"; do [ "$value" = "$v" ] && { echo "$value"; return 0; }; done
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$value"; return 1; }
    sleep 0.1
  done
}

# Boot the image once on a private copy of its disk and save the running guest, so that
# `up` restores it in seconds instead of booting. A mounted 9p share would block the save:
# shares are attached (empty) but mounted only after each restore.
save_guest() {
  [ -s "$SNAP/state" ] && return 0
  local t0 tmp run st empty; t0=$(now); tmp=$SNAP.tmp; run=$RUNS/.save-$$; empty=$tmp/empty
  say "booting the guest once to save it ($ACCEL; once per image and settings)"
  rm -rf "$tmp" "$run"; mkdir -p "$tmp" "$run" "$empty"
  cp --sparse=always "$IMAGE/root.img" "$tmp/disk.img"
  local shares=() i; for ((i = 0; i < SHARES; i++)); do shares+=("$empty"); done
  qemu_command "$run" "$tmp/disk.img" off "${shares[@]}"
  launch "$run" || die "qemu did not start (see above)"
  if ! "${VMCTL[@]}" ping "$run/qga.sock" --wait "$TIMEOUT" ||
     ! st=$("${VMCTL[@]}" exec "$run/qga.sock" --timeout "$TIMEOUT" -- \
            /bin/systemctl is-system-running --wait); then
    tail -30 "$run/console.log" >&2
    quit "$run"; rm -rf "$run" "$tmp"
    die "the guest did not boot (state: ${st:-unknown})"
  fi
  [ "$st" = running ] || {
    say "the guest booted ${st}:"
    "${VMCTL[@]}" exec "$run/qga.sock" -- /bin/systemctl --no-pager --failed >&2 || true; }
  "${VMCTL[@]}" exec "$run/qga.sock" -- /bin/sync
  qmp "$run" stop >/dev/null
  qmp "$run" migrate "{\"uri\": \"exec:cat > $tmp/state\"}" >/dev/null
  st=$(wait_qmp "$run" query-migrate status "$TIMEOUT" completed failed cancelled) || true
  quit "$run"; rm -rf "$run"
  [ "$st" = completed ] || { rm -rf "$tmp"; die "saving the guest failed (migration: ${st:-none})"; }
  rm -rf "$SNAP"; mv "$tmp" "$SNAP"
  say "guest saved in $(elapsed "$t0" "$(now)")"
}

# The SANDGEN_TEST_* lines of guest $1 (written by `up`, from the image it booted).
env_lines() {
  local file=$RUNS/$1/env
  [ -s "$file" ] || die "guest $1 is not up"
  cat "$file"
}

# Write them for guest $1 in run directory $2.
write_env() {
  local version
  version=$(awk '$1 == "systemd" { split($2, v, "."); print v[1] }' "$IMAGE/manifest.txt")
  [ -n "$version" ] || die "no systemd version in $IMAGE/manifest.txt"
  {
    printf 'SANDGEN_TEST_CONTAINER=%q\n' "$1"
    printf 'SANDGEN_TEST_INIT_PID=1\n'
    printf 'SANDGEN_TEST_BUS=%q\n' "unix:path=/run/dbus/system_bus_socket"
    printf 'SANDGEN_TEST_ROOT=/\n'
    printf 'SANDGEN_TEST_SYSTEMD=%q\n' "$version"
  } > "$2/env"
}

check_name() {
  [[ ${1:-} =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad or missing guest name: '${1:-}'"
}

up() {
  local name=$1 run; shift
  check_name "$name"
  [ $# -le "$SHARES" ] || die "at most $SHARES directories can be shared"
  run=$RUNS/$name
  running "$run" && die "guest $name is already up (down it first)"
  local t0; t0=$(now)
  deps
  mkdir -p "$CACHE" "$RUNS"
  # One image build and one save at a time, whatever runs in parallel.
  exec 9>"$CACHE/.lock"
  flock 9
  image
  save_guest
  flock -u 9
  rm -rf "$run"; mkdir -p "$run/empty"
  local shares=() dir
  for dir in "$@"; do
    [ -d "$dir" ] || die "cannot share $dir: not a directory"
    shares+=("$(cd "$dir" && pwd -P)")
  done
  printf '%s\n' "${shares[@]}" > "$run/shares"
  while [ ${#shares[@]} -lt "$SHARES" ]; do shares+=("$run/empty"); done
  qemu_command "$run" "$SNAP/disk.img" on "${shares[@]}"
  # shellcheck disable=SC2016 # expanded by cat, in qemu's shell
  launch "$run" -incoming "exec:cat $SNAP/state" || die "qemu did not start (see above)"
  # "inmigrate" while the state loads, then "paused"; then let it run.
  wait_qmp "$run" query-status status "$TIMEOUT" paused running >/dev/null ||
    { quit "$run"; die "restoring the saved guest did not finish: $(cat "$run/qemu.log")"; }
  qmp "$run" cont >/dev/null
  "${VMCTL[@]}" ping "$run/qga.sock" --wait 60 ||
    { quit "$run"; die "the restored guest's agent does not answer"; }
  "${VMCTL[@]}" set-time "$run/qga.sock"
  local i=0
  while read -r dir; do
    [ -n "$dir" ] || continue
    "${VMCTL[@]}" exec "$run/qga.sock" -- /bin/sh -ec \
      'mkdir -p "$1"; mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "$2" "$1"' \
      sh "$dir" "share$i" >&2 || { quit "$run"; die "cannot mount $dir in the guest"; }
    i=$((i + 1))
  done < "$run/shares"
  write_env "$name" "$run"
  say "guest $name up in $(elapsed "$t0" "$(now)") ($ACCEL, $CPUS CPUs, $MEM MiB)"
  env_lines "$name"
}

# Why guest $1 (run directory $2) is gone, on stderr: the end of its console and qemu's log.
post_mortem() {
  say "guest $1 is not running any more; the end of its console ($2/console.log):"
  tail -40 "$2/console.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
  [ -s "$2/qemu.log" ] && { say "qemu said:"; sed 's/^/  | /' "$2/qemu.log" >&2; }
  return 0
}

xexec() {
  local name=$1 cwd=/ run; shift
  check_name "$name"; run=$RUNS/$name
  if ! running "$run"; then
    [ -d "$run" ] && post_mortem "$name" "$run"
    die "guest $name is not up"
  fi
  if [ "${1:-}" = --cwd ]; then cwd=$2; shift 2; fi
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "exec needs a command"
  local envs=() line
  while read -r line; do envs+=(--env "$line"); done < <(env_lines "$name")
  # The guest keeps pages of files it read from the 9p shares; a binary rebuilt on the host
  # since then (a new file, perhaps the old inode number) can run with the old pages mixed in
  # and segfault at a truncated address. Dropping the clean page cache first reads it afresh.
  "${VMCTL[@]}" exec "$run/qga.sock" --timeout 60 -- \
    /bin/sh -c 'echo 1 > /proc/sys/vm/drop_caches' || die "guest $name: cannot drop its page cache"
  local rc=0
  "${VMCTL[@]}" exec "$run/qga.sock" --timeout "$EXEC_TIMEOUT" \
    --env "PATH=$GUEST_PATH" --env HOME=/root --env LANG=C.UTF-8 "${envs[@]}" -- \
    /usr/bin/env -C "$cwd" "$@" || rc=$?
  running "$run" || post_mortem "$name" "$run"
  return $rc
}

down() {
  local name=$1 run; check_name "$name"; run=$RUNS/$name
  quit "$run"
  rm -rf "$run"
}

list() { [ -d "$RUNS" ] && find "$RUNS" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' || true; }

case ${1:-} in
  up) shift; [ $# -ge 1 ] || die "usage: v2vm.sh up NAME [DIR...]"; up "$@" ;;
  exec) shift; [ $# -ge 2 ] || die "usage: v2vm.sh exec NAME [--cwd DIR] -- CMD..."; xexec "$@" ;;
  env) shift; check_name "${1:-}"; env_lines "$1" ;;
  down) shift; down "${1:-}" ;;
  list) list ;;
  image) mkdir -p "$CACHE"; exec 9>"$CACHE/.lock"; flock 9; image ;;
  deps) deps ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
