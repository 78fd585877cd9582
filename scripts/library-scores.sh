#!/bin/bash
# scripts/library-scores.sh - the "Policy library" table of README.md: the exposure
# (`sandgen score`, i.e. `systemd-analyze security --offline`) of each policy of the
# library against a "before": the distribution's own unit for that kind of service where
# Debian has one (scored as installed, read through the systemd of a throwaway test
# container), else a plain unit running the same command with no sandbox at all.
#
#   scripts/library-scores.sh            prints the Markdown table (needs root: it boots
#                                        tests/harness/systemd-container.sh)
#   SANDGEN=path/to/sandgen              the binary to use (default: builds target/debug)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
HARNESS=tests/harness/systemd-container.sh
NAME=sandgen-scores-$$

if [ -z "${SANDGEN:-}" ]; then
  cargo build -q --bin sandgen
  SANDGEN="${CARGO_TARGET_DIR:-target}/debug/sandgen"
fi

# policy | what it runs | before: "unit:NAME" (Debian's unit) or "plain"
ROWS=(
  "static-web|python3 -m http.server on 127.0.0.1:8000|plain"
  "tmp-clean|find /var/tmp ... -delete, oneshot|unit:systemd-tmpfiles-clean.service"
  "etc-backup|tar of /etc into /var/backups, oneshot|unit:dpkg-db-backup.service"
  "low-port-httpd|busybox httpd on 127.0.0.1:80|plain"
  "offline-worker|a worker without network|plain"
)

work=$(mktemp -d)
cleanup() { "$HARNESS" down "$NAME" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
eval "$("$HARNESS" up "$NAME" 2>/dev/null)"
export SANDGEN_BUS="$SANDGEN_TEST_BUS" SANDGEN_ROOT="/proc/$SANDGEN_TEST_INIT_PID/root"

echo "| policy | what it runs | before | exposure before | exposure after |"
echo "|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r policy what before <<<"$row"
  if [ "${before#unit:}" != "$before" ]; then
    unit=${before#unit:}
    # Debian's file as shipped, under another name: the host may mask the unit itself
    # (a symlink to /dev/null in /etc/systemd/system), and the container sees the host's /etc.
    target="debian-$unit"
    cp "/lib/systemd/system/$unit" "$SANDGEN_ROOT/etc/systemd/system/$target"
    "$HARNESS" exec "$NAME" systemctl daemon-reload
    shown="Debian's \`$unit\`"
  else
    # The same command (and type), nothing else: what a hand-written unit often is.
    target="$work/$policy.toml"
    { echo "[service]"; grep -E '^(exec|type) = ' "policies/$policy.toml"; } >"$target"
    shown="plain unit, same command"
  fi
  json=$("$SANDGEN" -q score --json "$target" "policies/$policy.toml")
  b=$(jq -r '"\(.before.exposure) \(.before.level)"' <<<"$json")
  a=$(jq -r '"\(.after.exposure) \(.after.level)"' <<<"$json")
  echo "| \`$policy\` | $what | $shown | $b | $a |"
done
