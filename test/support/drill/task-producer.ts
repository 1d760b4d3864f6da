/**
 * The worker drill's task stream: test/drill/fixtures/producer.py, run with the broker's version set, sends the
 * example app's slow (acks_late) or plain_slow (celery's defaults) tasks at a steady rate, each with a random
 * duration, and prints each id once it is published. `stop()` closes its standard input: it stops between two
 * publishes, so every task it sent has its id here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { register, unregister } from '../cleanup.js';
import { ROOT } from '../paths.js';
import { killAll } from '../proc.js';
import { settlesWithin } from '../wait.js';
import type { SlowTask } from '../real/celery.js';
import { hostEnv } from '../real/env.js';
import type { RedisServer } from '../real/redis.js';
import { wrapped } from '../real/versions.js';

export const PRODUCER = path.join(ROOT, 'test/drill/fixtures/producer.py');

export interface StreamOptions {
  task: SlowTask;
  /** Tasks per second. */
  rate: number;
  /** It stops by itself after this many. */
  maxTasks: number;
  /** Each task sleeps a uniformly random duration in [min, max] seconds. */
  minSeconds: number;
  maxSeconds: number;
  /** Seeds the durations: the same drill sends the same stream. */
  seed: number;
}

export class TaskProducer {
  /** Ids of the tasks published so far, in order. */
  readonly ids: string[] = [];
  /** When each was published (Date.now() when its id arrived). */
  readonly sentAt = new Map<string, number>();
  private stderr = '';
  private readonly ended: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const id of lines.filter(Boolean)) {
        this.ids.push(id);
        this.sentAt.set(id, Date.now());
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.ended = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  static start(redis: RedisServer, options: StreamOptions): TaskProducer {
    const { task, rate, maxTasks, minSeconds, maxSeconds, seed } = options;
    const argv = ['python3', PRODUCER, task, String(rate), String(maxTasks), String(minSeconds), String(maxSeconds), String(seed)];
    const [program, args] = wrapped(redis.versions, argv);
    // setpriv --pdeathsig: the producer dies with the test process even when that is killed before clean-up.
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', program, ...args], {
      cwd: ROOT,
      env: hostEnv({ CELERY_BROKER_URL: redis.url }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return register(new TaskProducer(child));
  }

  /** Stops producing (after the publish under way, if any) and resolves once the producer exited. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    const code = await this.ended;
    unregister(this);
    if (code !== 0) throw new Error(`the task producer exited with ${code}:\n${this.stderr}`);
  }

  /** The toolkit's clean-up (test/support/cleanup.ts). */
  async cleanup(): Promise<number[]> {
    this.child.stdin!.end();
    if (await settlesWithin(this.ended, 5000)) return [];
    return killAll([this.child.pid!]);
  }
}
