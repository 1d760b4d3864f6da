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
  # apt's progress and debconf's note that apt-utils is missing ask nothing of the user: they stay in a log that is
  # shown whole when apt fails. apt's own warnings and errors (W:, E:) are shown either way.
  local log
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "dev.sh: apt-get failed (its output is above)" >&2
    return 1
  fi
  grep -E '^(W|E):' "$log" >&2 || true
  rm -f "$log"
}

install_node_modules() {
  # node_modules/.bin/node (the `node` devDependency) is the Node major the image runs;
  # every npm script below runs on it, not on the machine's own Node.
  if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # npm checks each package's `engines` against the Node that runs npm itself. The machine's Node may be older than
    # the one every package here runs on, and npm would then warn (EBADENGINE) about packages that never run on it.
    # So npm itself runs on the locked Node (npx fetches that package from the registry once and caches it).
    local node_version npm_cli
    node_version=$(node -p 'require("./package-lock.json").packages["node_modules/node"].version')
    npm_cli=$(readlink -f "$(command -v npm)")
    npx --yes --package="node@${node_version}" -- node "$npm_cli" ci --no-audit --no-fund
  fi
}

# The container-topology tests and the demo run the supervisor, gunicorn and celery as uid 10001 (the image's user),
# so that uid must be able to read this checkout. A fresh clone under `mktemp -d` (mode 0700) is
# out of its reach: make the checkout's own directory readable (python lists it to import `scripts`) and add
# search permission only (o+x: traverse, not list) to each ancestor directory it cannot enter.
let_app_uid_reach_checkout() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! setpriv --reuid=10001 --regid=10001 --clear-groups test -r "$PWD"; then
    chmod o+rx "$PWD"
    echo "dev.sh: chmod o+rx $PWD (uid 10001, the image's user, must read the checkout)" >&2
  fi
  local dir
  dir=$(dirname "$PWD")
  while [ "$dir" != "/" ]; do
    if ! setpriv --reuid=10001 --regid=10001 --clear-groups test -x "$dir"; then
      chmod o+x "$dir"
      echo "dev.sh: chmod o+x $dir (uid 10001, the image's user, must reach the checkout)" >&2
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
    if [ "$(id -u)" -eq 0 ]; then
      # As the image runs it: as uid 10001, not root (the supervisor would rightly warn about root).
      let_app_uid_reach_checkout
      exec setpriv --reuid=10001 --regid=10001 --clear-groups node dist/supervisor.js
    fi
    exec node dist/supervisor.js
    ;;
  test)
    setup
    let_app_uid_reach_checkout
    npm test
    ;;
  *) echo "usage: bash dev.sh demo|test|setup" >&2; exit 64 ;;
esac
