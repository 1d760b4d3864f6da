// Test-only: EVEAI_SUPERVISOR_INJECT_FAULT=after-spawn throws an uncaught error once the program runs, so a test
// can prove the internal-error path on the real bundle (group killed, exit 70, one fatal line). Not a documented
// variable; inert when unset.

export function injectFaultForTests(): void {
  if (process.env.EVEAI_SUPERVISOR_INJECT_FAULT === 'after-spawn') {
    setTimeout(() => {
      throw new Error('injected fault (EVEAI_SUPERVISOR_INJECT_FAULT=after-spawn)');
    }, 200);
  }
}
