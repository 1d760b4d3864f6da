// The probe endpoint's request-head reader on its own: what it routes, what it refuses and when it waits for more.
// The same reader on real sockets, through the built supervisor: endpoint.test.ts.
import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, readHead, type Head } from '../../src/probes/request-head.js';

const read = (text: string): Head => readHead(Buffer.from(text, 'latin1'));
const KUBELET = 'GET /live HTTP/1.1\r\nHost: 10.1.2.3:9000\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n\r\n';

describe('a complete request head', () => {
  it("routes a kubelet's request by method and path", () => {
    expect(read(KUBELET)).toEqual({ kind: 'request', method: 'GET', path: '/live' });
    expect(read('HEAD /ready HTTP/1.0\r\n\r\n')).toEqual({ kind: 'request', method: 'HEAD', path: '/ready' });
    expect(read('POST /live HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi')).toEqual({ kind: 'request', method: 'POST', path: '/live' });
  });
  it('drops the query from the path and keeps any other target as it is (the router answers 404)', () => {
    expect(read('GET /live?verbose=1 HTTP/1.1\r\n\r\n')).toMatchObject({ path: '/live' });
    expect(read('GET http://10.1.2.3/live HTTP/1.1\r\n\r\n')).toMatchObject({ path: 'http://10.1.2.3/live' });
    expect(read('GET * HTTP/1.1\r\n\r\n')).toMatchObject({ path: '*' });
  });
  it('accepts bare LF line ends and empty lines before the request line (RFC 9112 §2.2)', () => {
    expect(read('GET /live HTTP/1.1\nHost: x\n\n')).toMatchObject({ kind: 'request', path: '/live' });
    expect(read('\r\n\r\nGET /live HTTP/1.1\r\n\r\n')).toMatchObject({ kind: 'request', path: '/live' });
  });
  it('ignores whatever follows the head: a body, a second (pipelined) request', () => {
    expect(read(`${KUBELET}GET /ready HTTP/1.1\r\n\r\n`)).toMatchObject({ kind: 'request', path: '/live' });
  });
});

describe('an incomplete head', () => {
  it('waits at every split point of a request until its last byte has arrived', () => {
    for (let cut = 0; cut < KUBELET.length; cut++) expect(read(KUBELET.slice(0, cut)).kind, `after ${cut} bytes`).toBe('incomplete');
    expect(read(KUBELET).kind).toBe('request');
  });
});

describe('a malformed request line', () => {
  const malformed = [
    'hello\r\n',
    'GET /live\r\n', // HTTP/0.9
    'GET  /live HTTP/1.1\r\n',
    'GET /live  HTTP/1.1\r\n',
    'GET /live HTTP/2.0\r\n',
    'GET /live http/1.1\r\n',
    'GET /live HTTP/1.1 \r\n',
    'G(T /live HTTP/1.1\r\n',
    'GET /li\tve HTTP/1.1\r\n',
    'GET /live\x00 HTTP/1.1\r\n',
    'GET /l\xe9ve HTTP/1.1\r\n',
    ' GET /live HTTP/1.1\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n', // a TLS ClientHello that happens to hold a LF
  ];
  it.each(malformed.map((text) => [JSON.stringify(text), text]))('%s is refused', (_, text) => {
    expect(read(text)).toEqual({ kind: 'malformed' });
  });
  it('is refused as soon as its line is complete, without waiting for headers that may never come', () => {
    expect(read('hello\r\nHost: x\r\n')).toEqual({ kind: 'malformed' });
  });
});

describe('the size bound', () => {
  const headOf = (bytes: number) => {
    const start = 'GET /live HTTP/1.1\r\nX-Padding: ';
    return `${start}${'a'.repeat(bytes - start.length - 4)}\r\n\r\n`;
  };
  it(`takes a head of exactly ${MAX_HEAD_BYTES} bytes and refuses one byte more`, () => {
    expect(headOf(MAX_HEAD_BYTES)).toHaveLength(MAX_HEAD_BYTES);
    expect(read(headOf(MAX_HEAD_BYTES)).kind).toBe('request');
    expect(read(headOf(MAX_HEAD_BYTES + 1))).toEqual({ kind: 'too-large' });
  });
  it('refuses a head that has no end within the bound, with or without a complete request line', () => {
    expect(read(`GET /live HTTP/1.1\r\nX-Padding: ${'a'.repeat(MAX_HEAD_BYTES)}`)).toEqual({ kind: 'too-large' });
    expect(read(`GET /${'a'.repeat(MAX_HEAD_BYTES)}`)).toEqual({ kind: 'too-large' });
    expect(read('\r\n'.repeat(MAX_HEAD_BYTES))).toEqual({ kind: 'too-large' });
  });
  it('still waits for more below the bound', () => {
    expect(read(`GET /live HTTP/1.1\r\nX-Padding: ${'a'.repeat(MAX_HEAD_BYTES - 100)}`)).toEqual({ kind: 'incomplete' });
  });
});
