#!/usr/bin/env bash
# One entry point for a fresh Debian machine (run as root, or with sudo for the apt step):
#   bash dev.sh demo   install what is missing, build, run the supervisor (ROLE=web) on the example app
#   bash dev.sh test   install what is missing, build, type-check and run the whole test suite
#   bash dev.sh setup  only install and build
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the real-process tests and the demo use. Keep this list the only one:
# .ci/run calls `bash dev.sh test`, so CI installs exactly what a developer gets.
APT_PACKAGES=(
  tini dumb-init procps util-linux                         # PID 1 candidates, ps/pgrep, unshare/setpriv
  gunicorn python3-gevent python3-flask                    # web role
  celery python3-celery python3-redis redis-server         # worker and beat roles
  podman runc debootstrap fuse-overlayfs uidmap            # image build and run without a Docker engine
  catatonit                                                # the pause process of `podman kube play` pods
  containernetworking-plugins iptables                     # the bridge network `podman kube play` gives a pod
  haproxy wrk                                              # the deploy drill: a real load balancer, a load generator
)

install_debian_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "dev.sh: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_node_modules() {
  # node_modules/.bin/node (the `node` devDependency) is the Node major the image runs;
  # every npm script below runs on it, not on the machine's own Node.
  if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}

# The container-topology tests run the supervisor, gunicorn and celery as uid 10001 (the image's user) in a PID
# namespace, so that uid must be able to read this checkout. A fresh clone under `mktemp -d` (mode 0700) is
# out of its reach: make the checkout's own directory readable (python lists it to import `scripts`) and add
# search permission only (o+x: traverse, not list) to each ancestor directory it cannot enter.
let_test_uid_reach_checkout() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! setpriv --reuid=10001 --regid=10001 --clear-groups test -r "$PWD"; then
    chmod o+rx "$PWD"
    echo "dev.sh: chmod o+rx $PWD (uid 10001 of the container-topology tests must read the checkout)" >&2
  fi
  local dir
  dir=$(dirname "$PWD")
  while [ "$dir" != "/" ]; do
    if ! setpriv --reuid=10001 --regid=10001 --clear-groups test -x "$dir"; then
      chmod o+x "$dir"
      echo "dev.sh: chmod o+x $dir (uid 10001 of the container-topology tests must reach the checkout)" >&2
    fi
    dir=$(dirname "$dir")
  done
}

setup() {
  install_debian_packages
  install_node_modules
  # Debian's python3 first: a pyenv python cannot import Debian's gunicorn/celery.
  export PATH="$PWD/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  npm run build
}

case "${1:-}" in
  setup) setup ;;
  demo)
    setup
    echo "dev.sh: web role on http://127.0.0.1:${PORT:-8080}/healthz — Ctrl-C stops it gracefully" >&2
    exec node dist/supervisor.js
    ;;
  test)
    setup
    let_test_uid_reach_checkout
    npm test
    ;;
  *) echo "usage: bash dev.sh demo|test|setup" >&2; exit 64 ;;
esac
