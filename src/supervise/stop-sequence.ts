// The stop sequence for one running child, driven by signals and timers:
//   running --stop--> draining (web, DRAIN_DELAY) --> graceful (stop signal to the leader, once)
//     --STOP_TIMEOUT--> hard (the role's hard-stop step) --ESCALATION_GRACE--> killed (SIGKILL to the group)
// Repeated stop requests never resend the stop signal nor reset the deadline.
import type { Logger } from '../log.js';
import type { HandledSignal } from '../signals/trap.js';
import type { Plan, Target } from './plan.js';
import { groupMembers, sendToGroup, sendToLeader } from './process-group.js';
import { StopTimeline } from './stop-summary.js';

export type StopState = 'running' | 'draining' | 'graceful' | 'hard' | 'killed';

/** What a line is written with: the supervisor's logger, or the stop sequence's view of it. */
export interface Lines {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** The one wording of a signal the supervisor does not pass on, wherever in its life it arrives. */
export function logDropped(log: Lines, signal: HandledSignal, why: string): void {
  log.info({ event: 'signal.dropped', signal, why }, `${signal} not passed on: ${why}`);
}

export class StopSequence {
  private state: StopState = 'running';
  private startedAt = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Each step as it happens, for shutdown.summary. */
  readonly timeline = new StopTimeline();
  /** Every line of the stop sequence goes through here: the signal.received line still unwritten goes first. */
  private readonly log: Lines;
  /** The signal.received line of the signal being handled, until it is written (see onSignal). */
  private unwritten: (() => void) | undefined;

  constructor(
    private readonly leaderPid: number,
    private readonly leaderExited: () => boolean,
    private readonly plan: Plan,
    log: Logger,
  ) {
    this.log = {
      info: (fields, msg) => (this.writeReceived(), log.info(fields, msg)),
      warn: (fields, msg) => (this.writeReceived(), log.warn(fields, msg)),
    };
  }

  /** Read-only, for the probes: where the stop sequence is. */
  get current(): StopState {
    return this.state;
  }

  get stopping(): boolean {
    return this.state !== 'running';
  }

  get killed(): boolean {
    return this.state === 'killed';
  }

  onSignal(signal: HandledSignal): void {
    const rule = this.plan.policy.rules[signal];
    const fields = { event: 'signal.received', signal, action: rule.action, state: this.state };
    // The program gets the signal before the line saying it arrived: a line is a JSON encoding and a write(2), which
    // waits while nobody reads stderr, and passing a signal on must wait for neither. It is still the first line about
    // this signal: written right after the signal is sent, or before any other line.
    this.unwritten = () => this.log.info(fields, `received ${signal}`);
    switch (rule.action) {
      case 'stop':
        this.requestStop(signal, rule.send);
        break;
      case 'stop-now':
        this.requestStopNow(signal);
        break;
      case 'forward':
        this.forward(signal, rule.target);
        break;
      case 'drop':
        logDropped(this.log, signal, rule.why);
    }
    this.writeReceived();
  }

  private writeReceived(): void {
    const write = this.unwritten;
    this.unwritten = undefined;
    write?.();
  }

  /** The leader is gone but its group may not be (`left` processes): whatever is left gets one stop deadline, then SIGKILL. */
  onLeaderExit(left: number): void {
    if (this.state !== 'running' && this.state !== 'draining') return;
    this.clearTimers();
    if (this.state === 'running') this.startedAt = Date.now();
    this.state = 'graceful';
    if (left > 0) this.timeline.enter('graceful', null, null, left);
    this.schedule(this.plan.settings.stopTimeoutMs, () => this.hardStep());
  }

  /** Everything of the group is gone: nothing left to time. The caller routes later signals elsewhere. */
  finish(): void {
    this.clearTimers();
  }

  private requestStop(received: HandledSignal, send: NodeJS.Signals): void {
    if (this.state !== 'running') {
      this.log.info({ event: 'signal.ignored', signal: received, state: this.state }, `${received} ignored: a stop is already in progress`);
      return;
    }
    this.startedAt = Date.now();
    this.timeline.requestedBy = received;
    const { drainDelayMs } = this.plan.settings;
    if (this.plan.policy.drains && drainDelayMs > 0) {
      this.state = 'draining';
      this.timeline.enter('drain', null, null, this.groupSize());
      this.log.info({ event: 'shutdown.drain', delay_ms: drainDelayMs }, `draining for ${drainDelayMs} ms before ${send}`);
      this.schedule(drainDelayMs, () => this.sendGraceful(send));
    } else {
      this.sendGraceful(send);
    }
  }

  private requestStopNow(received: HandledSignal): void {
    if (this.state === 'hard' || this.state === 'killed') {
      this.log.info(
        { event: 'signal.ignored', signal: received, state: this.state },
        `${received} ignored: already past the graceful stop`,
      );
      return;
    }
    if (this.state === 'running') {
      this.startedAt = Date.now();
      this.timeline.requestedBy = received;
    }
    this.hardStep(false); // the requested step itself: not delayed by a count, like the stop signal
  }

  private sendGraceful(signal: NodeJS.Signals): void {
    this.state = 'graceful';
    const timeout_ms = this.plan.settings.stopTimeoutMs;
    const delivered = this.deliver(signal, 'leader');
    // Not counted: reading /proc here, before or after the signal, would delay the stop (a scan of a busy host's
    // /proc takes milliseconds and blocks the exit of a program that stops at once). The later steps count.
    this.timeline.enter('graceful', signal, 'leader', null);
    if (delivered) {
      this.log.info(
        { event: 'shutdown.graceful', signal, target: 'leader', child_pid: this.leaderPid, timeout_ms },
        `sent ${signal} to ${this.leaderPid}; SIGKILL follows in ${timeout_ms + this.plan.settings.escalationGraceMs} ms at the latest`,
      );
    }
    this.schedule(timeout_ms, () => this.hardStep());
  }

  private hardStep(count = true): void {
    this.clearTimers();
    const hardStop = this.plan.policy.hardStop;
    if (!hardStop) return this.killGroup();
    this.state = 'hard';
    this.timeline.enter('hard', hardStop.signal, hardStop.target, count ? this.groupSize() : null);
    this.deliver(hardStop.signal, hardStop.target);
    this.log.warn(
      { event: 'shutdown.escalate', signal: hardStop.signal, target: hardStop.target, child_pid: this.leaderPid, after_ms: this.elapsed() },
      `stop deadline reached: ${hardStop.signal} to the ${hardStop.target} (${hardStop.why})`,
    );
    this.schedule(this.plan.settings.escalationGraceMs, () => this.killGroup());
  }

  private killGroup(): void {
    this.clearTimers();
    this.state = 'killed';
    this.timeline.enter('kill', 'SIGKILL', 'group', this.groupSize());
    this.deliver('SIGKILL', 'group');
    this.log.warn(
      { event: 'shutdown.escalate', signal: 'SIGKILL', target: 'group', child_pid: this.leaderPid, after_ms: this.elapsed() },
      'SIGKILL to the whole process group',
    );
  }

  private forward(signal: HandledSignal, target: Target): void {
    if (this.deliver(signal, target)) {
      this.log.info({ event: 'signal.forwarded', signal, target, child_pid: this.leaderPid }, `forwarded ${signal} to the ${target}`);
    } else {
      logDropped(this.log, signal, 'the program already exited');
    }
  }

  /** Sends to the leader (unless Node already reaped it) or to the group; false when nobody received it. */
  private deliver(signal: NodeJS.Signals, target: Target): boolean {
    const delivered =
      target === 'group' ? sendToGroup(this.leaderPid, signal) : !this.leaderExited() && sendToLeader(this.leaderPid, signal);
    this.writeReceived();
    return delivered;
  }

  private groupSize(): number {
    return groupMembers(this.leaderPid).length;
  }

  private elapsed(): number {
    return Date.now() - this.startedAt;
  }

  private schedule(ms: number, step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
