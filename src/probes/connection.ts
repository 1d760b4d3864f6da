// One request per connection, with bounds in size and time: read the head (request-head.ts), answer once, close.
// Written on node:net rather than node:http, which parses and allocates far more per request than an answer to
// GET /live needs (what that cost in memory: bench/RESULTS-probes.md).
import type { Socket } from 'node:net';
import { MAX_HEAD_BYTES, readHead } from './request-head.js';
import { responseText, type Answer } from './response.js';

/**
 * A client gets this long to send its request head, and again this long to read the answer and close: a client that
 * sends nothing, or one byte at a time (slowloris), holds a connection for at most twice this.
 */
export const CONNECTION_DEADLINE_MS = 5000;

/**
 * Connections held at once beyond which a new one is closed unanswered: a kubelet holds one or two, and each held
 * connection costs memory until its deadline. Far above any prober, so that a flood of idle connections bounds the
 * supervisor's memory without making a few stray clients fail the kubelet's probes.
 */
export const MAX_CONNECTIONS = 256;

export interface Request {
  method: string;
  path: string;
}

/** What to answer a complete request with; it may take a moment (a TCP connect to the program's port). */
export type Route = (request: Request) => Answer | Promise<Answer>;

const BAD_REQUEST: Answer = { status: 400, contentType: 'text/plain', body: 'bad request\n' };
const TOO_LARGE: Answer = { status: 431, contentType: 'text/plain', body: `request head larger than ${MAX_HEAD_BYTES} bytes\n` };
const TIMEOUT: Answer = { status: 408, contentType: 'text/plain', body: 'no complete request in time\n' };
const FAILED: Answer = { status: 500, contentType: 'text/plain', body: 'internal error\n' };

export function answerOneRequest(socket: Socket, route: Route): void {
  // reading: waiting for a complete head; answering: the route runs; answered: the answer is written, the rest of
  // what the client sends is read and dropped (closing a socket with unread bytes would reset the connection and
  // could cost the client the answer), until the client closes or the deadline passes.
  let state: 'reading' | 'answering' | 'answered' = 'reading';
  let received: Buffer | undefined;
  let withBody = true;

  const send = (answer: Answer) => {
    state = 'answered';
    if (!socket.destroyed) socket.end(responseText(answer, withBody));
  };
  const deadline = setTimeout(() => {
    if (state !== 'reading') return socket.destroy();
    send(TIMEOUT);
    deadline.refresh();
  }, CONNECTION_DEADLINE_MS);
  deadline.unref();

  socket.on('data', (chunk: Buffer) => {
    if (state !== 'reading') return;
    received = received === undefined ? chunk : Buffer.concat([received, chunk]);
    const head = readHead(received);
    switch (head.kind) {
      case 'incomplete':
        return;
      case 'malformed':
        return send(BAD_REQUEST);
      case 'too-large':
        return send(TOO_LARGE);
      case 'request':
    }
    state = 'answering';
    received = undefined;
    withBody = head.method !== 'HEAD';
    let answer: Answer | Promise<Answer>;
    try {
      answer = route(head);
    } catch {
      return send(FAILED);
    }
    if (answer instanceof Promise) answer.then(send, () => send(FAILED));
    else send(answer);
  });
  // The client closed its side: an incomplete head will never be completed (an answer can still be read).
  socket.on('end', () => {
    if (state === 'reading') send(BAD_REQUEST);
  });
  socket.on('error', () => socket.destroy()); // a reset by the client: nothing to answer
  socket.on('close', () => clearTimeout(deadline));
}
