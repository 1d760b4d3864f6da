#!/bin/sh
# The soak's stand-in for gunicorn, celery and a one-off command: a POSIX shell starts in about a millisecond, so
# ten thousand supervised starts stay cheap. Behaviour comes from the environment (bench/soak.mjs sets it):
#   SOAK_START_S    seconds of start-up before it handles any signal (TERM takes its default action meanwhile)
#   SOAK_DRAIN_S    seconds it keeps working after TERM/INT before it exits 0
#   SOAK_IGNORE_TERM=1  TERM/INT change nothing (the supervisor's hard-stop step and SIGKILL have to end it)
#   SOAK_IGNORE_QUIT=1  QUIT changes nothing either (only SIGKILL ends it); otherwise QUIT exits 3
#   SOAK_LIFE_S     it exits by itself with SOAK_EXIT after this many seconds (the leader's own exit)
#   SOAK_GRANDCHILD=1   one more process in its group that outlives it unless signalled
exec 2>/dev/null # the shell's own "Terminated" notices would read as foreign lines in the supervisor's stderr
[ -n "$SOAK_START_S" ] && sleep "$SOAK_START_S"
sleeper=
stop() {
  [ "$SOAK_IGNORE_TERM" = 1 ] && return
  [ -n "$SOAK_DRAIN_S" ] && sleep "$SOAK_DRAIN_S"
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  exit 0
}
trap stop TERM INT
if [ "$SOAK_IGNORE_QUIT" = 1 ]; then trap '' QUIT; else trap 'kill $sleeper 2>/dev/null; exit 3' QUIT; fi
trap ':' HUP USR1 TTIN TTOU
[ "$SOAK_GRANDCHILD" = 1 ] && { sleep 1000 & }
sleep "${SOAK_LIFE_S:-1000}" &
sleeper=$!
# A trapped signal interrupts `wait`; wait again until the sleeper itself is gone.
while kill -0 "$sleeper" 2>/dev/null; do wait "$sleeper"; done
exit "${SOAK_EXIT:-0}"
