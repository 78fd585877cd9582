# benches/lane.sh - sourced by the benchmarks: which real systemd they run against.
#
#   SANDGEN_BENCH_LANE=container  (default) systemd 252 as PID 1 of an nspawn container on
#                                 this host's cgroups (tests/harness/systemd-container.sh)
#   SANDGEN_BENCH_LANE=guest      systemd 257 on pure cgroup v2 in a qemu guest
#                                 (tests/harness/v2vm.sh), emulated where the host has no
#                                 real KVM: compare its ratios, not its times
#
# Defines HARNESS, LANE (a label for the output), lane_up (boots it as $NAME and sets the
# SANDGEN_TEST_* variables, SANDGEN_TEST_SYSTEMD among them) and inside (runs a command
# there, as root, cwd /).
case ${SANDGEN_BENCH_LANE:-container} in
  container)
    HARNESS=tests/harness/systemd-container.sh
    LANE_SHARES=()
    LANE="the container (systemd 252, host cgroups)" ;;
  guest)
    HARNESS=tests/harness/v2vm.sh
    LANE_SHARES=("$PWD")
    LANE="the guest (systemd 257, cgroup v2)" ;;
  *) echo "SANDGEN_BENCH_LANE must be container or guest, not '$SANDGEN_BENCH_LANE'" >&2; exit 2 ;;
esac
lane_up() {
  local lines
  lines=$("$HARNESS" up "$NAME" "${LANE_SHARES[@]}") || { echo "cannot boot $LANE" >&2; exit 1; }
  eval "$lines"
}
inside() { "$HARNESS" exec "$NAME" "$@"; }
