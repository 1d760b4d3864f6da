// The benchmark's child program: as cheap to start as a program can be (static, no libc start-up work
// beyond the minimum), so every wrapper pays the same for it. It reports on stdout, one write(2) per line:
//   "S <pid> <monotonic ns>"      first thing in main()
//   "R <monotonic ns>"            signal handlers installed (idle mode)
//   "G <signo> <monotonic ns>"    first thing in each signal handler
//   "X <monotonic ns>"            right before _exit (after TERM/INT/QUIT; code PROBE_EXIT, default 0)
// PROBE_MODE=start: exit right after "S" (start-up only). Otherwise idle in pause() until TERM/INT/QUIT.
// CLOCK_MONOTONIC is the clock Node's process.hrtime uses, so the harness compares it directly.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int exit_code = 0;

/* async-signal-safe decimal formatting */
static int fmt(char *out, const char *prefix, int signo, long long ns) {
  char digits[32];
  int n = 0, len = 0;
  while (*prefix) out[len++] = *prefix++;
  if (signo >= 0) {
    char s[8]; int k = 0;
    do { s[k++] = '0' + signo % 10; signo /= 10; } while (signo);
    while (k) out[len++] = s[--k];
    out[len++] = ' ';
  }
  do { digits[n++] = '0' + (int)(ns % 10); ns /= 10; } while (ns);
  while (n) out[len++] = digits[--n];
  out[len++] = '\n';
  return len;
}

static void on_signal(int signo) {
  long long t = now_ns();
  char line[64];
  int len = fmt(line, "G ", signo, t);
  (void)!write(1, line, len);
  if (signo == SIGTERM || signo == SIGINT || signo == SIGQUIT) {
    len = fmt(line, "X ", -1, now_ns());
    (void)!write(1, line, len);
    _exit(exit_code);
  }
}

int main(void) {
  long long t = now_ns();
  char line[64];
  int len = fmt(line, "S ", (int)getpid(), t);
  (void)!write(1, line, len);
  const char *mode = getenv("PROBE_MODE");
  if (mode && strcmp(mode, "start") == 0) return 0;
  const char *code = getenv("PROBE_EXIT");
  if (code) exit_code = atoi(code);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU, SIGWINCH};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  len = fmt(line, "R ", -1, now_ns());
  (void)!write(1, line, len);
  for (;;) pause();
}
