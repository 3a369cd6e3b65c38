#!/usr/bin/env bash
# Run GIMP 3 (console, batch mode) inside the root built by setup.sh, with host
# folders bind-mounted at the same paths, and undo every mount afterwards even
# when killed.  Used by tests/e2e; handy by hand too:
#
#   scripts/gimp3/run_gimp.sh ROOT PROFILE DRIVER.py [BIND_DIR...]
#
#   ROOT     root from setup.sh (its last line prints ROOT=...)
#   PROFILE  GIMP profile folder, a path INSIDE the root (e.g. /gimptest/p1);
#            created from the warm template when missing
#   DRIVER   Python file run by python-fu-eval inside GIMP (must lie in a BIND_DIR)
#   BIND_DIR host folders made visible inside the root at the same path (the
#            engine venv, its base interpreter, the test's work folder, ...)
# Env: GIMP_TIMEOUT (s, default 600); GIMP_XVFB=1 runs the full GUI-capable
# console under xvfb-run (for INTERACTIVE dialogs); GIMP_UI=1 runs gimp-3.0
# (the GUI) instead of gimp-console-3.0 (implies Xvfb).  Variables named
# COLORIZE_*, COLORCORE_* and E2E_* are passed through to GIMP, the plug-in and the engine.
set -euo pipefail
ROOT=$1; PROFILE=$2; DRIVER=$3; shift 3
[ "$(id -u)" = 0 ] || { echo "run_gimp.sh: must run as root" >&2; exit 1; }
[ -x "$ROOT/usr/bin/gimp-console-3.0" ] || { echo "no GIMP 3 in $ROOT; run setup.sh" >&2; exit 1; }

mounts_under() { awk -v r="$ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r; }
MY_MOUNTS=()
GIMP_PID=
cleanup() {
  if [ -n "$GIMP_PID" ] && kill -0 "$GIMP_PID" 2>/dev/null; then
    kill -TERM "$GIMP_PID" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$GIMP_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$GIMP_PID" 2>/dev/null || true
  fi
  # whatever this run started inside the root goes with it (same root, same private mount namespace; a
  # parallel run has its own): the warm engine (colorcore serve) outlives GIMP on purpose in real use, but
  # here it would keep this run's mounts busy
  local p root ns
  root=$(readlink -f "$ROOT"); ns=$(readlink /proc/self/ns/mnt)
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ]; then
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done
  local i
  for (( i=${#MY_MOUNTS[@]}-1; i>=0; i-- )); do
    umount "${MY_MOUNTS[$i]}" 2>/dev/null || umount -l "${MY_MOUNTS[$i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each run gets its own private mount namespace when unshare is available, so
# parallel runs and a killed runner never leave mounts in the host's namespace.
if [ -z "${_GIMP3_UNSHARED:-}" ] && command -v unshare >/dev/null; then
  export _GIMP3_UNSHARED=1
  trap - EXIT
  exec unshare --mount --propagation private "$0" "$ROOT" "$PROFILE" "$DRIVER" "$@"
fi

mnt() {  # mnt [mount args...] TARGET
  local target=${!#}
  mount "$@"
  MY_MOUNTS+=("$target")
}
mountpoint -q "$ROOT/proc" || mnt -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/dev" || mnt --bind /dev "$ROOT/dev"
mkdir -p "$ROOT/tmp" && chmod 1777 "$ROOT/tmp"
for d in "$@"; do
  [ -e "$d" ] || continue
  mkdir -p "$ROOT$d"
  mountpoint -q "$ROOT$d" || mnt --bind "$d" "$ROOT$d"
done
if [ ! -d "$ROOT$PROFILE" ]; then
  mkdir -p "$(dirname "$ROOT$PROFILE")"
  cp -a "$ROOT/gimptest/profile-template" "$ROOT$PROFILE"
fi

ENVS=(HOME=/gimptest/home PATH=/usr/bin:/bin LANG=C.UTF-8 GIMP3_DIRECTORY="$PROFILE")
while IFS='=' read -r k v; do
  case "$k" in COLORIZE_*|COLORCORE_*|E2E_*) ENVS+=("$k=$v");; esac
done < <(env)
BIN=gimp-console-3.0
FLAGS=-idf
WRAP=()
if [ "${GIMP_UI:-0}" = 1 ]; then BIN=gimp-3.0; FLAGS=-df; GIMP_XVFB=1; fi
if [ "${GIMP_XVFB:-0}" = 1 ]; then WRAP=(xvfb-run -a -s "-screen 0 ${GIMP_SCREEN:-1280x900x24}"); fi
chroot "$ROOT" env -i "${ENVS[@]}" timeout "${GIMP_TIMEOUT:-600}" "${WRAP[@]}" \
  "$BIN" $FLAGS --quit --batch-interpreter=python-fu-eval \
  -b "exec(open('$DRIVER').read())" &
GIMP_PID=$!
rc=0; wait "$GIMP_PID" || rc=$?
GIMP_PID=
exit $rc
