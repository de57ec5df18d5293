#!/usr/bin/env bash
# Real podman for the tests (and a recipe for a worker): does only what is missing.
#   support/podman.sh setup          install podman runc catatonit busybox-static, write
#                                    /etc/containers/containers.conf when absent
#   support/podman.sh image NAME:TAG  import a busybox image (no registry) unless it exists;
#                                    prints its name
#   support/podman.sh check NAME:TAG  run it once: exit code, -e and -w must come through
# Needs root (CI runs as root; otherwise sudo). The settings are the ones a VM or container
# without systemd and without cgroup delegation needs: runc on cgroupfs, events to a file, no
# default ulimits or pids limit (a nested container may not raise them).
set -euo pipefail
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
PACKAGES="podman runc catatonit busybox-static"
CONF=/etc/containers/containers.conf

setup() {
  local missing="" p
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "installing Debian packages:$missing" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  if [ ! -e "$CONF" ]; then
    echo "writing $CONF" >&2
    $SUDO mkdir -p "$(dirname "$CONF")"
    $SUDO tee "$CONF" >/dev/null <<'EOF'
# Written by cloud-dispatch support/podman.sh: podman where systemd and cgroup delegation are absent.
[containers]
default_ulimits = []
pids_limit = 0

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  elif ! grep -q '^runtime *= *"runc"' "$CONF"; then
    echo "note: $CONF exists and was left as is (it does not select runc; see docs/runner.md)" >&2
  fi
}

# A root filesystem of busybox and its applet links, imported as an image.
image() {
  local name=$1
  if $SUDO podman image exists "$name"; then echo "$name"; return; fi
  local dir
  dir=$(mktemp -d /tmp/cdd-podman-image-XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp" "$dir/rootfs/work"
  chmod 1777 "$dir/rootfs/tmp"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  local applet
  for applet in sh echo sleep env pwd cat ls true false kill trap test printf id mkdir rm touch seq wc head tail grep; do
    [ "$applet" = trap ] && continue   # a shell builtin, not an applet
    ln -s busybox "$dir/rootfs/bin/$applet"
  done
  tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
  $SUDO podman import --quiet --change 'ENV PATH=/bin' "$dir/rootfs.tar" "$name" >/dev/null
  echo "$name"
}

check() {
  local name=$1 out
  # As the runner runs it: default network (podman's bridge needs iptables on PATH), --init.
  out=$($SUDO podman run --rm --init -e CHECK=ok -w /tmp "$name" sh -c 'echo "$CHECK $(pwd)"; exit 3' || echo "exit $?")
  [ "$out" = $'ok /tmp\nexit 3' ] || { echo "podman does not run $name as expected: $out" >&2; exit 1; }
  echo "podman runs $name"
}

case ${1:-} in
setup) setup ;;
image) image "${2:?image name}" ;;
check) check "${2:?image name}" ;;
*) echo "usage: $0 setup | image NAME:TAG | check NAME:TAG" >&2; exit 2 ;;
esac
