#!/usr/bin/env bash
# Runs a command inside another Debian root filesystem with this checkout visible at the same path:
#   unshare --mount --propagation private -- bash enter-rootfs.sh ROOTFS REPO WORKDIR -- COMMAND ARGS...
# chroot by absolute path: it lives in /usr/sbin, which the PATH passed on to the command may lack.
# Started in a private mount namespace, so every mount below disappears with the command: nothing to undo on
# the host, even when the test process is killed. Arguments are only ever passed on ("$@"), never evaluated.
set -euo pipefail
root=$1 repo=$2 workdir=$3
[ "$4" = "--" ] || { echo "enter-rootfs.sh: expected -- after ROOTFS REPO WORKDIR" >&2; exit 64; }
shift 4

# `unshare --mount-proc` inside needs / to be a mount point.
mount --bind "$root" "$root"
# /dev with its submounts: gunicorn's --worker-tmp-dir /dev/shm, /dev/null, /dev/urandom.
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
# /tmp before the checkout: a clone under /tmp (CI's mktemp -d) must not be hidden by the tmpfs.
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root$repo"
mount --bind "$repo" "$root$repo"
if [ "$workdir" != "$repo" ] && [ -d "$workdir" ]; then
  mkdir -p "$root$workdir"
  mount --bind "$workdir" "$root$workdir"
fi
exec /usr/sbin/chroot "$root" /usr/bin/env --chdir="$workdir" "$@"
