# Fallback child for machines without a C compiler: same protocol as probe.c (see there), slower to start
# (the interpreter's own start-up is in every row alike). Run as: python3 -S -I probe.py
import os, signal, sys, time
os.write(1, b"S %d %d\n" % (os.getpid(), time.monotonic_ns()))
if os.environ.get("PROBE_MODE") == "start":
    os._exit(0)
code = int(os.environ.get("PROBE_EXIT", "0"))
def on_signal(signo, frame):
    os.write(1, b"G %d %d\n" % (signo, time.monotonic_ns()))
    if signo in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        os.write(1, b"X %d\n" % time.monotonic_ns())
        os._exit(code)
for s in ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU", "SIGWINCH"):
    signal.signal(getattr(signal, s), on_signal)
os.write(1, b"R %d\n" % time.monotonic_ns())
while True:
    signal.pause()
