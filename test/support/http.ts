/**
 * HTTP from the host side: every request on its own connection (no keep-alive agent); a free port to listen on; and raw
 * exchanges on one TCP connection, byte for byte, for the probe endpoint's own HTTP reader.
 */
import http from 'node:http';
import net from 'node:net';
import { sleep } from './wait.js';

export interface HttpResult {
  status?: number;
  error?: string; // ECONNREFUSED, ECONNRESET, socket hang up, timeout, ...
  body?: string;
}

/** GET http://host:port/pathname; resolves with the status and body, or with what went wrong (never rejects). */
export function get(port: number, pathname: string, timeoutMs = 30_000, host = '127.0.0.1'): Promise<HttpResult> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: pathname, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

/**
 * What a brand-new client sees: "refused" (nothing listens), "hung" (connect or answer never comes
 * within the timeout: the listener still exists but nobody accepts), or the HTTP outcome.
 */
export async function newConnection(port: number, timeoutMs = 3000): Promise<'refused' | 'hung' | string> {
  const connected = await new Promise<'refused' | 'hung' | 'connected' | string>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hung');
    }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? err.message));
    });
  });
  if (connected !== 'connected') return connected;
  const answer = await get(port, '/healthz', timeoutMs);
  if (answer.status) return `served ${answer.status}`;
  return answer.error === 'TIMEOUT' ? 'hung' : (answer.error ?? 'unknown');
}

/** A TCP port free on all interfaces right now (the kernel picks it; we close and hand it on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ port: 0, host: '0.0.0.0', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** The supervisor's probe endpoint: the status and the JSON answer's phase and reason. */
export async function probeAnswer(port: number, path: '/live' | '/ready'): Promise<{ status?: number; phase?: string; reason?: string }> {
  const answer = await get(port, path, 10_000);
  return { status: answer.status, ...(answer.body ? (JSON.parse(answer.body) as { phase: string; reason: string }) : {}) };
}

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  received: string;
  /** How the server ended it: `fin` (a clean close), `reset` (ECONNRESET), or `open` (still open at `waitMs`). */
  end: 'fin' | 'reset' | 'open';
}

/**
 * One TCP connection with exactly the bytes given: each chunk is its own write (Nagle off), `gapMs` apart; then,
 * with `halfClose`, the client's side is shut (FIN) while it keeps reading. Resolves once the server has closed its
 * side or reset the connection, or after `waitMs` with what came so far. With `keepOpen` the client socket is left
 * open (returned) for the caller to watch; otherwise it is destroyed.
 */
export async function rawExchange(
  port: number,
  chunks: (string | Buffer)[],
  { host = '127.0.0.1', gapMs = 0, halfClose = false, waitMs = 20_000, keepOpen = false } = {},
): Promise<RawExchange & { socket: net.Socket }> {
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
  socket.setEncoding('latin1');
  let received = '';
  socket.on('data', (text: string) => (received += text));
  const ended = new Promise<RawExchange['end']>((resolve) => {
    const timer = setTimeout(() => resolve('open'), waitMs);
    socket.once('end', () => (clearTimeout(timer), resolve('fin')));
    socket.on('error', (err: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(err.code === 'ECONNRESET' ? 'reset' : 'fin')));
    socket.once('close', () => (clearTimeout(timer), resolve('fin')));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0 && gapMs > 0) await sleep(gapMs);
    if (!socket.writable) break;
    socket.write(chunk);
  }
  if (halfClose) socket.end();
  const end = await ended;
  if (!keepOpen) socket.destroy();
  return { received, end, socket };
}

/** The parts of an HTTP/1.1 response text: status, headers (names lower-cased), body. */
export function parseResponse(text: string): { status: number; headers: Record<string, string>; body: string } | undefined {
  const split = text.indexOf('\r\n\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/.exec(text);
  if (split < 0 || !match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of text.slice(match[0].length, split).split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers, body: text.slice(split + 4) };
}
