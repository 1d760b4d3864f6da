// The probe endpoint's HTTP on real sockets, through the built supervisor: what it answers (GET and HEAD of /live and
// /ready, 404 otherwise, on IPv4 and IPv6), and how its own request reader copes with what real clients send:
// requests split across packets, pipelined and keep-alive requests, half-closed sockets, malformed and oversized
// heads, clients that send nothing or dribble — each answered once and closed, within bounds of size and time.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_DEADLINE_MS, MAX_CONNECTIONS } from '../../src/probes/connection.js';
import { MAX_HEAD_BYTES } from '../../src/probes/request-head.js';
import { freePort, parseResponse, rawExchange } from '../support/http.js';
import { openSockets } from '../support/proc.js';
import { startSupervisor, type Running } from '../support/supervisor.js';
import { waitFor, within } from '../support/wait.js';
import { world, type World } from '../support/world.js';

const SECRET = randomBytes(18).toString('base64url');
const request = (line: string, headers = 'Host: 10.1.2.3:9000\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n') =>
  `${line}\r\n${headers}\r\n`;

let w: World;
let sup: Running;
let port: number;
/** The supervisor's sockets with no probe connection open: the listening socket(s). */
let idleSockets: number;

beforeAll(async () => {
  w = world({ DATABASE_URL: `postgresql://eveai:${SECRET}@db:5432/eveai` });
  port = await freePort();
  sup = await startSupervisor(['--', 'fake-child'], { env: { ...w.env, PROBE_PORT: String(port) } });
  await sup.waitForLog((l) => l.event === 'child.spawn');
  idleSockets = openSockets(sup.proc.pid!)!;
});
afterAll(async () => {
  sup.signal('SIGTERM');
  await within(sup.exited, 20_000, 'the supervisor exits');
  expect(w.cleanup()).toEqual([]);
});

/** Waits until the supervisor holds no probe connection any more. */
const connectionsClosed = (timeoutMs: number) =>
  waitFor(
    () => `the supervisor still holds ${openSockets(sup.proc.pid!)! - idleSockets} probe connection(s)`,
    () => openSockets(sup.proc.pid!) === idleSockets,
    timeoutMs,
    50,
  );

describe('answers', () => {
  it('GET /live and /ready: 200, the JSON body, connection: close, then the server closes; on IPv4 and IPv6', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      for (const path of ['/live', '/ready']) {
        const { received, end } = await rawExchange(port, [request(`GET ${path} HTTP/1.1`)], { host });
        const answer = parseResponse(received);
        expect(answer, `${host} ${path}`).toMatchObject({
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' },
        });
        expect(JSON.parse(answer!.body)).toEqual({ probe: path.slice(1), ok: true, phase: 'running', reason: 'running' });
        expect(Number(answer!.headers['content-length'])).toBe(Buffer.byteLength(answer!.body));
        expect(answer!.headers.date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        expect(end, 'closed by the server').toBe('fin');
      }
    }
  });

  it('HEAD gets the same status and headers as GET and no body', async () => {
    const get = parseResponse((await rawExchange(port, [request('GET /live HTTP/1.1')])).received)!;
    const head = parseResponse((await rawExchange(port, [request('HEAD /live HTTP/1.1')])).received)!;
    expect(head.status).toBe(200);
    expect({ ...head.headers, date: '' }).toEqual({ ...get.headers, date: '' });
    expect(head.body).toBe('');
  });

  it('404 for any other path or method; a query string is ignored', async () => {
    for (const line of [
      'GET /metrics HTTP/1.1',
      'GET /live/ HTTP/1.1',
      'POST /live HTTP/1.1',
      'DELETE /ready HTTP/1.0',
      'GET / HTTP/1.1',
    ]) {
      const answer = parseResponse((await rawExchange(port, [request(line)])).received);
      expect(answer, line).toMatchObject({ status: 404, body: 'GET /live or /ready\n', headers: { connection: 'close' } });
    }
    expect(parseResponse((await rawExchange(port, [request('GET /live?full=1 HTTP/1.1')])).received)?.status).toBe(200);
  });

  it('no answer carries a value of the environment', async () => {
    const lines = ['GET /live HTTP/1.1', 'GET /ready HTTP/1.1', 'GET /env HTTP/1.1', 'nonsense'];
    for (const line of lines) expect((await rawExchange(port, [request(line)])).received).not.toContain(SECRET);
  });
});

describe('what clients send', () => {
  it('a request split across packets, even inside its line ends, is answered once it is complete', async () => {
    const text = request('GET /ready HTTP/1.1');
    const pieces = [text.slice(0, 1), text.slice(1, 9), text.slice(9, 19), text.slice(19, -3), text.slice(-3, -1), text.slice(-1)];
    const { received, end } = await rawExchange(port, pieces, { gapMs: 30 });
    expect(parseResponse(received)?.status).toBe(200);
    expect(end).toBe('fin');
  });

  it('pipelined requests: the first is answered, then the connection is closed (the client retries the rest)', async () => {
    const { received, end } = await rawExchange(port, [request('GET /live HTTP/1.1') + request('GET /ready HTTP/1.1')]);
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(JSON.parse(parseResponse(received)!.body)).toMatchObject({ probe: 'live' });
    expect(end).toBe('fin');
  });

  it('a keep-alive request gets connection: close and the server closes after one answer', async () => {
    const { received, end } = await rawExchange(port, [request('GET /live HTTP/1.1', 'Host: x\r\nConnection: keep-alive\r\n')]);
    expect(parseResponse(received)).toMatchObject({ status: 200, headers: { connection: 'close' } });
    expect(end).toBe('fin');
  });

  it('a client that sends its request and shuts its side at once still reads the answer', async () => {
    const { received } = await rawExchange(port, [request('GET /ready HTTP/1.1')], { halfClose: true });
    expect(parseResponse(received)?.status).toBe(200);
  });

  it('a client that shuts its side before its head is complete gets 400', async () => {
    const { received, end } = await rawExchange(port, ['GET /live HTTP/1.1\r\nHost: x\r\n'], { halfClose: true });
    expect(parseResponse(received)?.status).toBe(400);
    expect(end).toBe('fin');
  });

  it('a malformed request line gets 400 at once, without waiting for the rest of the head', async () => {
    for (const text of ['hello\r\n', 'GET /live\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n']) {
      const { received, end } = await rawExchange(port, [Buffer.from(text, 'latin1')], { waitMs: CONNECTION_DEADLINE_MS / 2 });
      expect(parseResponse(received)?.status, JSON.stringify(text)).toBe(400);
      expect(end).toBe('fin');
    }
  });

  it(`a head larger than ${MAX_HEAD_BYTES} bytes gets 431; what the client sends after it is read, so the close is clean`, async () => {
    const oversized = request('GET /live HTTP/1.1', `X-Padding: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n`);
    const { received, end } = await rawExchange(port, [oversized, 'b'.repeat(256 * 1024)]);
    expect(parseResponse(received)?.status).toBe(431);
    expect(end, 'not reset: the answer is not lost').toBe('fin');
  });

  it('many probes on parallel connections are each answered, and each connection is let go once its client closes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => rawExchange(port, [request(`GET /${i % 2 ? 'live' : 'ready'} HTTP/1.1`)])),
    );
    expect(answers.map((a) => parseResponse(a.received)?.status ?? `${a.end}: ${JSON.stringify(a.received)}`)).toEqual(Array(40).fill(200));
    await connectionsClosed(CONNECTION_DEADLINE_MS / 2); // not held until the deadline
  });
});

describe('bounded in time', () => {
  it('a client that sends nothing, and one that dribbles a head it never ends, get 408 and lose their connection', async () => {
    const dribble = ['GET /live HTTP/1.1\r\n', ...Array.from({ length: 200 }, () => 'X')];
    const [silent, slow] = await Promise.all([
      rawExchange(port, [], { keepOpen: true, waitMs: CONNECTION_DEADLINE_MS * 3 }),
      rawExchange(port, dribble, { gapMs: 50, keepOpen: true, waitMs: CONNECTION_DEADLINE_MS * 3 }),
    ]);
    for (const client of [silent, slow]) {
      expect(parseResponse(client.received)?.status).toBe(408);
      expect(client.end).toBe('fin');
    }
    // Both clients keep their side open: the supervisor lets go of them anyway.
    await connectionsClosed(CONNECTION_DEADLINE_MS * 3);
    silent.socket.destroy();
    slow.socket.destroy();
  }, 60_000);

  it('a client that reads its answer but never closes loses its connection too', async () => {
    const { received, end, socket } = await rawExchange(port, [request('GET /live HTTP/1.1')], { keepOpen: true });
    expect(parseResponse(received)?.status).toBe(200);
    expect(end).toBe('fin');
    expect(openSockets(sup.proc.pid!), 'held until the client closes or the deadline').toBe(idleSockets + 1);
    await connectionsClosed(CONNECTION_DEADLINE_MS * 3);
    socket.destroy();
  }, 60_000);
});

describe('bounded in connections', () => {
  it(`beyond ${MAX_CONNECTIONS} connections held at once a new one is closed unanswered; once they close, probes are answered`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => rawExchange(port, [], { keepOpen: true, waitMs: 200 })));
    await waitFor('every idle connection is held', () => openSockets(sup.proc.pid!) === idleSockets + MAX_CONNECTIONS, 10_000);
    const refused = await rawExchange(port, [request('GET /live HTTP/1.1')]);
    expect(refused.received).toBe('');
    for (const client of idle) client.socket.destroy();
    await connectionsClosed(CONNECTION_DEADLINE_MS / 2);
    expect(parseResponse((await rawExchange(port, [request('GET /live HTTP/1.1')])).received)?.status).toBe(200);
  }, 30_000);
});

describe('the endpoint never keeps the supervisor alive', () => {
  it('a stop ends the supervisor while a probe connection is still open', async () => {
    using other = world();
    const probePort = await freePort();
    const run = await startSupervisor(['--', 'fake-child'], { env: { ...other.env, PROBE_PORT: String(probePort) } });
    await run.waitForLog((l) => l.event === 'child.spawn');
    const listening = openSockets(run.proc.pid!)!;
    const open = rawExchange(probePort, [], { keepOpen: true, waitMs: CONNECTION_DEADLINE_MS * 3 });
    await waitFor('the connection is accepted', () => openSockets(run.proc.pid!)! > listening, 5000);
    const stoppedAt = Date.now();
    run.signal('SIGTERM');
    await within(run.exited, 20_000, 'the supervisor exits');
    expect(Date.now() - stoppedAt, 'did not wait for the open connection').toBeLessThan(CONNECTION_DEADLINE_MS);
    const client = await open;
    expect(parseResponse(client.received), 'no answer: the supervisor exited first').toBeUndefined();
    client.socket.destroy();
  }, 30_000);
});
