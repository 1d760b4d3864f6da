// The text of one answer: status line, headers, body. Every answer closes its connection (`connection: close`):
// a probe client opens one connection per probe, so there is nothing to keep open.

const STATUS_TEXT = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
} as const;

export type Status = keyof typeof STATUS_TEXT;

export interface Answer {
  status: Status;
  contentType: 'application/json' | 'text/plain';
  body: string;
}

/** The answer as sent: a HEAD request gets the same status line and headers without the body. */
export function responseText(answer: Answer, withBody: boolean, now = Date.now()): string {
  const date = httpDate(now);
  let sent = sentText.get(answer);
  if (sent?.date !== date) {
    const head =
      `HTTP/1.1 ${answer.status} ${STATUS_TEXT[answer.status]}\r\n` +
      `content-type: ${answer.contentType}\r\n` +
      'cache-control: no-store\r\n' +
      `content-length: ${Buffer.byteLength(answer.body)}\r\n` +
      'connection: close\r\n' +
      `date: ${date}\r\n` +
      '\r\n';
    sent = { date, head, full: head + answer.body };
    sentText.set(answer, sent);
  }
  return withBody ? sent.full : sent.head;
}

/** Each answer's text for the current second: a probe that gets the same answer as the last builds no string. */
const sentText = new WeakMap<Answer, { date: string; head: string; full: string }>();

/** RFC 9110 §6.6.1: an origin server with a clock sends Date; its text changes once a second, so it is kept that long. */
function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
let dateSecond = -1;
let dateText = '';
