// The head of one HTTP/1.x request, read from the bytes a probe client sent so far: enough to route GET/HEAD of
// /live and /ready, with a hard size bound, and nothing more. Header lines are counted against the bound but not
// interpreted (no answer depends on them) and a body is never read: the connection closes after one answer.

/** A kubelet's request is about 150 bytes; a probe's own httpHeaders add a few. A larger head is refused (431). */
export const MAX_HEAD_BYTES = 8192;

export type Head =
  /** The head is not complete yet: wait for more bytes. */
  | { kind: 'incomplete' }
  | { kind: 'request'; method: string; path: string }
  /** Not an HTTP/1.x request line (400). */
  | { kind: 'malformed' }
  /** No end of the head within MAX_HEAD_BYTES (431). */
  | { kind: 'too-large' };

const LF = 0x0a;
const CR = 0x0d;

/** method SP request-target SP HTTP-version (RFC 9112 §3): a token, visible ASCII without spaces, HTTP/1.0 or 1.1. */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.[01]$/;

export function readHead(bytes: Uint8Array): Head {
  // RFC 9112 §2.2: a server should ignore empty lines received before the request line.
  let start = 0;
  while (start < bytes.length && (bytes[start] === CR || bytes[start] === LF)) start++;
  const lineEnd = bytes.indexOf(LF, start);
  if (lineEnd < 0) return bytes.length > MAX_HEAD_BYTES ? { kind: 'too-large' } : { kind: 'incomplete' };
  // The request line decides at once: garbage is answered without waiting for headers that will never come.
  const line = Buffer.from(bytes.buffer, bytes.byteOffset + start, lineEnd - start).toString('latin1');
  const match = REQUEST_LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!match) return { kind: 'malformed' };
  const end = endOfHead(bytes, lineEnd);
  if (end < 0) return bytes.length > MAX_HEAD_BYTES ? { kind: 'too-large' } : { kind: 'incomplete' };
  if (end > MAX_HEAD_BYTES) return { kind: 'too-large' };
  const target = match[2]!;
  const query = target.indexOf('?');
  return { kind: 'request', method: match[1]!, path: query < 0 ? target : target.slice(0, query) };
}

/**
 * The index just past the empty line that ends the head, or -1. Lines end in CRLF; a bare LF is accepted too
 * (RFC 9112 §2.2 allows a recipient to), so the head ends at LF CR LF or LF LF after the request line's own LF.
 */
function endOfHead(bytes: Uint8Array, requestLineEnd: number): number {
  for (let lf = requestLineEnd; lf >= 0; lf = bytes.indexOf(LF, lf + 1)) {
    if (bytes[lf + 1] === LF) return lf + 2;
    if (bytes[lf + 1] === CR && bytes[lf + 2] === LF) return lf + 3;
  }
  return -1;
}
