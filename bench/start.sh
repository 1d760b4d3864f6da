#!/usr/bin/env bash
# The migration plan's scripts/start.sh, verbatim (docs: migratie_startup_en_builds.md); the benchmark runs it
# the way the plan's image does: ENTRYPOINT ["/usr/bin/tini","-g","--"] CMD ["bash","-lc","scripts/start.sh"].
set -euo pipefail

ROLE="${ROLE:-web}"

case "$ROLE" in
  web)
    exec gunicorn -w "${WORKERS:-1}" -k "${WORKER_CLASS:-gevent}"       -b "0.0.0.0:${PORT:-8080}" --worker-connections "${WORKER_CONN:-100}"       --access-logfile - --error-logfile - --log-level "${LOGLEVEL:-info}"       scripts.run_eveai_app:app
    ;;

  worker)
    exec celery -A scripts.run_eveai_workers worker       --loglevel="${CELERY_LOGLEVEL:-INFO}"       --concurrency="${CELERY_CONCURRENCY:-2}"       --max-tasks-per-child="${CELERY_MAX_TASKS_PER_CHILD:-1000}"       --prefetch-multiplier="${CELERY_PREFETCH:-1}" -O fair
    ;;

  beat)
    exec celery -A scripts.run_eveai_workers beat       --loglevel="${CELERY_LOGLEVEL:-INFO}"
    ;;

  *)
    echo "Unknown ROLE=$ROLE" >&2
    exit 1
    ;;
esac
