/**
 * A throw-away redis-server for one test: loopback only, a free port, no RDB/AOF persistence, no
 * working files left behind. Stopped by its pid (TERM, then KILL). A minimal RESP client for the few
 * commands the assertions need (GET, LLEN, LRANGE, HGETALL, ...).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { register, unregister } from '../cleanup.js';
import { killAll } from '../proc.js';
import { settlesWithin, waitFor } from '../wait.js';
import { hostEnv } from './env.js';
import { freePort } from '../http.js';
import { BOOKWORM, type VersionSet, wrapped } from './versions.js';

type Reply = string | number | null | Reply[];

/** Sends one command on a fresh connection and returns its parsed reply. */
export function redisCommand(port: number, ...args: (string | number)[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy(new Error(`redis ${args[0]}: timeout`)));
    socket.on('error', reject);
    socket.on('connect', () => {
      const parts = args.map(String);
      socket.write(`*${parts.length}\r\n` + parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join(''));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parse(buffer, 0);
      if (!parsed) return; // incomplete
      socket.end();
      if (parsed.error) reject(new Error(`redis ${args[0]}: ${parsed.error}`));
      else resolve(parsed.value);
    });
  });
}

function parse(buf: Buffer, at: number): { value: Reply; end: number; error?: string } | undefined {
  const lineEnd = buf.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: null, end: next, error: line };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        if (item.error) return item;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return { value: null, end: next, error: `unexpected reply type ${JSON.stringify(type)}` };
  }
}

export class RedisServer implements AsyncDisposable {
  readonly url: string;
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    /** The version set whose redis-server this is; the task client runs from the same set. */
    readonly versions: VersionSet,
  ) {
    this.url = `redis://127.0.0.1:${port}/0`;
  }

  static async start(versions: VersionSet = BOOKWORM): Promise<RedisServer> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eveai-redis-'));
    const [program, args] = wrapped(versions, [
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      versions.scratchDir ?? dir,
      '--loglevel',
      'warning',
      '--daemonize',
      'no',
    ]);
    // setpriv --pdeathsig: redis dies with the test process even if that is killed before cleanup runs
    // (every wrapper in between execs, so the signal reaches redis-server itself).
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', program, ...args], {
      env: hostEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const server = register(new RedisServer(port, child, dir, versions));
    await waitFor(
      `redis-server on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        return (await redisCommand(port, 'PING').catch(() => null)) === 'PONG';
      },
      10_000,
    );
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  command(...args: (string | number)[]): Promise<Reply> {
    return redisCommand(this.port, ...args);
  }

  /** TERM, then KILL after 3 s; removes its directory. Idempotent. */
  async stop(): Promise<void> {
    unregister(this);
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killAll([child.pid], 'SIGTERM');
      if (!(await settlesWithin(exited, 3000))) {
        killAll([child.pid]);
        await exited;
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The toolkit's clean-up (test/support/cleanup.ts). */
  async cleanup(): Promise<number[]> {
    await this.stop();
    return [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
