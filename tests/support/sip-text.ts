/**
 * SIP requests written out as text, the way a desk phone puts them on the wire, and the few reads a test
 * needs of what comes back. Independent of the PBX's own parser, so the tests check the wire.
 */

export interface RequestText {
  method: string;
  uri?: string;
  /** The Via sent-by and its parameters after the branch, e.g. `192.0.2.1:5062` and `;rport`. */
  via: string;
  viaTransport?: 'UDP' | 'TCP' | 'TLS';
  viaParams?: string;
  branch?: string;
  callId?: string;
  cseq?: number;
  from?: string;
  to?: string;
  headers?: string[];
  body?: string;
}

let counter = 0;

export function sipRequest(r: RequestText): string {
  counter += 1;
  const body = r.body ?? '';
  return [
    `${r.method} ${r.uri ?? 'sip:pbx.test'} SIP/2.0`,
    `Via: SIP/2.0/${r.viaTransport ?? 'UDP'} ${r.via};branch=${r.branch ?? `z9hG4bK-t${counter}-${Date.now()}`}${r.viaParams ?? ''}`,
    'Max-Forwards: 70',
    `From: ${r.from ?? '<sip:tester@pbx.test>;tag=t1'}`,
    `To: ${r.to ?? '<sip:pbx.test>'}`,
    `Call-ID: ${r.callId ?? `call-${counter}-${Date.now()}@test`}`,
    `CSeq: ${r.cseq ?? 1} ${r.method}`,
    ...(r.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export interface ResponseText {
  status: number;
  reason: string;
  raw: string;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
}

export function readResponse(raw: string): ResponseText {
  const [head = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(statusLine);
  const headers = lines.map((line): [string, string] => {
    const i = line.indexOf(':');
    return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()];
  });
  const all = (name: string) => headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v);
  return { status: Number(match?.[1] ?? 0), reason: match?.[2] ?? '', raw, header: (n) => all(n)[0], headerAll: all };
}

/** Splits a byte stream into the messages on it, by Content-Length. */
export function splitStream(text: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = text.replace(/^(\r\n)+/, '');
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const length = Number(/\r\nContent-Length:\s*(\d+)/i.exec(rest.slice(0, end + 2))?.[1] ?? 0);
    const total = end + 4 + length;
    if (rest.length < total) break;
    messages.push(rest.slice(0, total));
    rest = rest.slice(total).replace(/^(\r\n)+/, '');
  }
  return { messages, rest };
}
