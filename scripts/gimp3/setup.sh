#!/usr/bin/env bash
# Build (once) and cache a Debian trixie root holding GIMP 3 (+ Xvfb), used by
# tests/e2e to run the plug-in in a real GIMP 3 on a Debian 12 (or any
# debootstrap-capable) host.  Idempotent: a finished root carries a stamp file
# naming what it was built with; a re-run with the same stamp takes ~1 s.
#
# Needs root (debootstrap, chroot, mount) and network (deb.debian.org) the first time.
#
# Env knobs:
#   COLORCORE_GIMP3_CACHE  cache folder (default /var/cache/colorcore-gimp3);
#                          kept outside the clone so CI runs reuse it
# Prints "ROOT=<path>" as its last line.
set -euo pipefail

CACHE=${COLORCORE_GIMP3_CACHE:-/var/cache/colorcore-gimp3}
MIRROR=${COLORCORE_GIMP3_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
# python3-gi: GIMP's Python 3 plug-ins; xvfb/xauth: INTERACTIVE dialog test;
# xdotool + x11-apps (xwd): screenshots of the running GUI for the docs.
PKGS="gimp python3-gi xvfb xauth xdotool x11-apps"
STAMP_VALUE="v1 suite=$SUITE pkgs=$PKGS"
KEY=$(printf '%s' "$STAMP_VALUE" | sha1sum | cut -c1-10)
ROOT=$CACHE/root-$KEY
STAMP=$ROOT/.colorcore-gimp3-ready
LOCK=$CACHE/.lock

T0=$EPOCHREALTIME
step() { awk -v a="$T0" -v b="$EPOCHREALTIME" -v m="$*" \
           'BEGIN{printf "[gimp3-setup %6.1fs] %s\n", b-a, m}'; }

[ "$(id -u)" = 0 ] || { echo "scripts/gimp3/setup.sh: must run as root" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$LOCK"
flock 9          # two test runs at once: the second waits for the first

mounts_under() {  # deepest first
  awk -v r="$1/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r
}
umount_all() {
  local m
  for m in $(mounts_under "$ROOT"); do umount "$m" 2>/dev/null || umount -l "$m"; done
}
trap umount_all EXIT

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_VALUE" ]; then
  step "GIMP 3 root ready (cached): $ROOT"
  echo "ROOT=$ROOT"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  step "apt-get install debootstrap (host)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

umount_all
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  step "debootstrap $SUITE -> $ROOT"
  rm -rf "$ROOT" "$ROOT.tmp"
  debootstrap --variant=minbase "$SUITE" "$ROOT.tmp" "$MIRROR" \
    > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
  mv "$ROOT.tmp" "$ROOT"
fi
cat > "$ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR}-security $SUITE-security main
SRC
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"   # no services
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/dev"  || mount --bind /dev "$ROOT/dev"
step "apt-get install $PKGS"
chroot "$ROOT" apt-get update -qq
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends $PKGS > "$CACHE/apt-install.log" 2>&1 \
  || { tail -30 "$CACHE/apt-install.log"; exit 1; }
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' \
  ! -name locale.alias -exec rm -rf {} +

# Warm a profile template: the first start queries ~120 plug-ins (~9 s); test
# runs copy it so only our plug-in is queried.  LANG must match the test runs.
step "warm GIMP profile template"
rm -rf "$ROOT/gimptest"
mkdir -p "$ROOT/gimptest/home" "$ROOT/gimptest/profile-template"
chroot "$ROOT" env -i HOME=/gimptest/home PATH=/usr/bin:/bin LANG=C.UTF-8 \
  GIMP3_DIRECTORY=/gimptest/profile-template \
  timeout 300 gimp-console-3.0 -idf --quit \
  --batch-interpreter=python-fu-eval -b 'print("GIMP", Gimp.version())' \
  > "$CACHE/warm.log" 2>&1 || { cat "$CACHE/warm.log"; exit 1; }
grep -q '^GIMP 3' "$CACHE/warm.log" || { cat "$CACHE/warm.log"; exit 1; }
echo "$STAMP_VALUE" > "$STAMP"
# drop roots built for other stamps (older package lists)
for old in "$CACHE"/root-*; do
  [ "$old" = "$ROOT" ] && continue
  [ -n "$(mounts_under "$old")" ] && continue
  rm -rf "$old"
done
step "GIMP 3 root built: $(du -shx "$ROOT" | cut -f1) at $ROOT"
echo "ROOT=$ROOT"
