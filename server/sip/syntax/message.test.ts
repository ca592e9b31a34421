import { describe, expect, it } from 'vitest';
import {
  ALL_JSSIP_MESSAGES, ANSWER_SDP, JSSIP_ACK, JSSIP_BYE, JSSIP_INVITE, JSSIP_REGISTER, JSSIP_REGISTER_AUTHORIZED,
  OFFER_SDP, PBX_INVITE_OK, PBX_REGISTER_CHALLENGE,
} from './fixtures/jssip-messages';
import {
  createResponse, generateBranch, generateCallId, generateTag, parseAuthorization, parseCSeq, parseMessage,
  parseNameAddr, parseVia, REASON_PHRASES, serializeMessage, SipHeaders, SipParseError, SipStreamParser,
} from './message';
import type { SipMessage, SipRequest, SipResponse } from './message';

const asRequest = (text: string) => parseMessage(text) as SipRequest;
const asResponse = (text: string) => parseMessage(text) as SipResponse;

describe('JsSIP over WebSocket', () => {
  it('parses a REGISTER with its outbound Contact', () => {
    const register = asRequest(JSSIP_REGISTER);
    expect([register.kind, register.method, register.uri]).toEqual(['request', 'REGISTER', 'sip:pbx.example.com']);
    const via = parseVia(register.headers.get('Via') ?? '');
    expect(via).toEqual({ protocol: 'SIP/2.0', transport: 'WSS', host: '4sa7ljgkoqq5.invalid', params: { branch: 'z9hG4bK2738861' } });
    const contact = parseNameAddr(register.headers.get('Contact') ?? '');
    expect(contact.uri).toMatchObject({ scheme: 'sip', user: 'u7b2k1qd', host: '4sa7ljgkoqq5.invalid', params: { transport: 'ws' } });
    expect(contact.params).toEqual({
      '+sip.ice': null,
      'reg-id': '1',
      '+sip.instance': '"<urn:uuid:5f1e7a3c-0b9d-4c2e-8f61-2d4a9b7c3e10>"',
      expires: '600',
    });
    expect(register.headers.getAll('Supported')).toEqual(['path', 'gruu', 'outbound']);
    expect(register.headers.getAll('Allow')).toHaveLength(11);
    expect(register.body.length).toBe(0);
  });

  it('reads the Digest challenge and the credentials that answer it', () => {
    const challenge = asResponse(PBX_REGISTER_CHALLENGE);
    expect([challenge.status, challenge.reason]).toEqual([401, 'Unauthorized']);
    const offered = parseAuthorization(challenge.headers.get('WWW-Authenticate') ?? '');
    expect(offered).toEqual({
      scheme: 'Digest',
      params: { realm: 'pbx.example.com', nonce: 'bd6a0f6c1e0b4b4f9c3a7d2e', opaque: '5ccc069c403ebaf9f0171e9517f40e41', algorithm: 'MD5', qop: 'auth' },
    });
    const register = asRequest(JSSIP_REGISTER_AUTHORIZED);
    expect(register.headers.getAll('Authorization')).toHaveLength(1);
    const credentials = parseAuthorization(register.headers.get('Authorization') ?? '');
    expect(credentials.params).toMatchObject({ username: '1001', uri: 'sip:pbx.example.com', qop: 'auth', nc: '00000001', cnonce: 't1mpjq4b8kbo' });
  });

  it('parses an INVITE, its 200, the ACK and the BYE of one call', () => {
    const invite = asRequest(JSSIP_INVITE);
    expect(invite.body.toString()).toBe(OFFER_SDP);
    expect(parseCSeq(invite.headers.get('CSeq') ?? '')).toEqual({ seq: 6519, method: 'INVITE' });
    expect(parseNameAddr(invite.headers.get('Contact') ?? '').uri.params).toEqual({ transport: 'ws', ob: null });
    expect(parseNameAddr(invite.headers.get('From') ?? '')).toMatchObject({ displayName: 'Alice Example', params: { tag: 'm0cu6ub1pe' } });

    const ok = asResponse(PBX_INVITE_OK);
    expect(ok.body.toString()).toBe(ANSWER_SDP);
    expect(parseVia(ok.headers.get('Via') ?? '').params).toEqual({ branch: 'z9hG4bK5087164', received: '198.51.100.7', rport: '51234' });
    const toTag = parseNameAddr(ok.headers.get('To') ?? '').params.tag;

    const ack = asRequest(JSSIP_ACK);
    expect(ack.method).toBe('ACK');
    expect(parseNameAddr(ack.headers.get('To') ?? '').params.tag).toBe(toTag);
    const bye = asRequest(JSSIP_BYE);
    expect(parseCSeq(bye.headers.get('CSeq') ?? '').seq).toBe(6520);
    expect(bye.headers.get('Call-ID')).toBe(invite.headers.get('Call-ID'));
  });

  it.each(Object.entries(ALL_JSSIP_MESSAGES))('%s survives parse → serialize → parse byte for byte', (_name, text) => {
    const first = parseMessage(text);
    const wire = serializeMessage(first);
    expect(wire.toString()).toBe(text);
    const second = parseMessage(wire);
    expect(second).toEqual(first);
  });
});

describe('parseMessage', () => {
  const minimal = (extra = '', body = '') =>
    `OPTIONS sip:1002@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nTo: <sip:1002@pbx.example.com>\r\nFrom: <sip:1001@pbx.example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n${extra}\r\n${body}`;

  it('truncates a body longer than Content-Length and rejects one shorter', () => {
    expect(parseMessage(minimal('Content-Length: 3\r\n', 'abcdef')).body.toString()).toBe('abc');
    const error = (() => {
      try {
        parseMessage(minimal('Content-Length: 10\r\n', 'abc'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SipParseError);
  });

  it('counts Content-Length in octets, not characters', () => {
    const body = 'héllo ☎';
    const message = parseMessage(minimal(`Content-Length: ${Buffer.byteLength(body)}\r\n`, body));
    expect(message.body.toString('utf8')).toBe(body);
  });

  it('takes the rest of the datagram as the body when Content-Length is absent', () => {
    expect(parseMessage(minimal('', 'rest')).body.toString()).toBe('rest');
  });

  it('accepts bare LF line ends and leading CRLFs', () => {
    const message = parseMessage(`\r\n\r\n${minimal('Content-Length: 0\r\n').replace(/\r\n/g, '\n')}`);
    expect(message.headers.get('CSeq')).toBe('1 OPTIONS');
  });

  it('accepts a missing Max-Forwards', () => {
    expect(parseMessage(minimal()).headers.has('Max-Forwards')).toBe(false);
  });

  it.each([
    ['Via', 'Bad Request - Missing Via'],
    ['To', 'Bad Request - Missing To'],
    ['From', 'Bad Request - Missing From'],
    ['Call-ID', 'Bad Request - Missing Call-ID'],
    ['CSeq', 'Bad Request - Missing CSeq'],
  ])('rejects a request without %s', (name, reason) => {
    const text = minimal().split('\r\n').filter((line) => !line.startsWith(`${name}:`)).join('\r\n');
    expect(() => parseMessage(text)).toThrow(reason);
  });

  it('reports a malformed header line but keeps the rest for the 400', () => {
    try {
      parseMessage(minimal('this line has no colon\r\n'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SipParseError);
      expect((error as SipParseError).reason).toBe('Bad Request - Malformed header line');
      expect((error as SipParseError).partial?.get('Call-ID')).toBe('c1');
    }
  });

  it('refuses a bare CR inside a header line, which would become a line break when the value is sent on', () => {
    for (const line of ['Subject: one\rtwo\r\n', 'Subject: one\r\n two\rthree\r\n']) {
      try {
        parseMessage(minimal(line));
        expect.unreachable();
      } catch (error) {
        expect((error as SipParseError).reason).toBe('Bad Request - Bare CR in a header line');
        expect((error as SipParseError).partial?.get('Call-ID')).toBe('c1');
      }
    }
  });

  it('rejects an empty datagram and plain garbage', () => {
    expect(() => parseMessage('\r\n\r\n')).toThrow(SipParseError);
    expect(() => parseMessage('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toThrow(SipParseError);
  });

  it('says in its error whether the malformed message was a request or a response, from its start line', () => {
    const kind = (text: string) => {
      try {
        parseMessage(text);
      } catch (error) {
        return (error as SipParseError).kind;
      }
      return 'parsed';
    };
    const broken = minimal('Max-Forwards: 256\r\n');
    expect(kind(broken)).toBe('request');
    expect(kind(broken.replace('OPTIONS sip:1002@pbx.example.com SIP/2.0', 'SIP/2.0 200 OK'))).toBe('response');
    expect(kind(broken.replace('OPTIONS sip:1002@pbx.example.com SIP/2.0', 'sip/2.0 99 Bad'))).toBe('response');
    const framer = new SipStreamParser();
    expect(() => framer.push(Buffer.from(broken.replace('OPTIONS sip:1002@pbx.example.com SIP/2.0', 'SIP/2.0 200 OK')))).toThrow(
      expect.objectContaining({ kind: 'response', reason: 'Bad Request - Missing Content-Length' }),
    );
  });

  it('takes From and To of any scheme, and a Contact of SIP, SIPS or tel only', () => {
    const message = parseMessage(minimal().replace('To: <sip:1002@pbx.example.com>', 'To: <mailto:desk@example.com>').replace('From: <sip:1001@pbx.example.com>', 'From: <http://example.com/me>'));
    expect([message.headers.get('To'), message.headers.get('From')]).toEqual(['<mailto:desk@example.com>', '<http://example.com/me>;tag=1']);
    expect(() => parseMessage(minimal('Contact: <mailto:desk@example.com>\r\n'))).toThrow('Bad Request - Malformed Contact');
  });
});

describe('SipHeaders', () => {
  it('expands compact forms and matches names case-insensitively', () => {
    const headers = new SipHeaders([['v', 'SIP/2.0/WS a.invalid'], ['i', 'abc'], ['cSEQ', '1 INVITE'], ['x-custom', '1']]);
    expect(headers.entries()).toEqual([['Via', 'SIP/2.0/WS a.invalid'], ['Call-ID', 'abc'], ['CSeq', '1 INVITE'], ['x-custom', '1']]);
    expect(headers.get('via')).toBe('SIP/2.0/WS a.invalid');
    expect(headers.get('CALL-ID')).toBe('abc');
    expect(headers.has('X-Custom')).toBe(true);
    expect(new SipHeaders([['www-authenticate', 'Digest a=b']]).entries()[0]?.[0]).toBe('WWW-Authenticate');
  });

  it('splits list headers respecting quotes and <>, and leaves authentication headers and Date whole', () => {
    const headers = new SipHeaders([
      ['Contact', '"Doe, John" <sip:a@b;x=1,2>;q=0.5, <sip:c@d>'],
      ['Contact', '<sip:e@f>'],
      ['Proxy-Authorization', 'Digest username="a,b", realm="r"'],
      ['Date', 'Sat, 13 Nov 2010 23:29:00 GMT'],
    ]);
    expect(headers.getAll('Contact')).toEqual(['"Doe, John" <sip:a@b;x=1,2>;q=0.5', '<sip:c@d>', '<sip:e@f>']);
    expect(headers.get('m')).toBe('"Doe, John" <sip:a@b;x=1,2>;q=0.5');
    expect(headers.getAll('Proxy-Authorization')).toEqual(['Digest username="a,b", realm="r"']);
    expect(headers.get('Date')).toBe('Sat, 13 Nov 2010 23:29:00 GMT');
  });

  it('sets, appends, prepends and removes in wire order', () => {
    const headers = new SipHeaders([['Via', 'SIP/2.0/WS one.invalid'], ['To', '<sip:a@b>'], ['Via', 'SIP/2.0/WS two.invalid']]);
    headers.prepend('Via', 'SIP/2.0/WSS pbx.example.com;branch=z9hG4bKx');
    expect(headers.getAll('Via')[0]).toBe('SIP/2.0/WSS pbx.example.com;branch=z9hG4bKx');
    headers.set('via', 'SIP/2.0/TCP only.invalid');
    expect(headers.entries()).toEqual([['Via', 'SIP/2.0/TCP only.invalid'], ['To', '<sip:a@b>']]);
    headers.append('Route', '<sip:r1;lr>');
    headers.prepend('Max-Forwards', '70');
    expect(headers.entries().map(([n]) => n)).toEqual(['Max-Forwards', 'Via', 'To', 'Route']);
    const copy = headers.clone();
    copy.remove('To');
    expect(headers.has('To')).toBe(true);
    expect(copy.has('To')).toBe(false);
  });

  it('refuses values that would break the header line', () => {
    expect(() => new SipHeaders().set('Subject', 'hi\r\nVia: evil')).toThrow(TypeError);
    expect(() => new SipHeaders().append('Bad Name', 'x')).toThrow(TypeError);
  });
});

describe('serializeMessage', () => {
  it('writes the Content-Length the body has, wherever the header was', () => {
    const request: SipRequest = {
      kind: 'request',
      method: 'MESSAGE',
      uri: 'sip:1002@pbx.example.com',
      headers: new SipHeaders([['Content-Length', '999'], ['Content-Type', 'text/plain']]),
      body: Buffer.from('hi ☎'),
    };
    expect(serializeMessage(request).toString()).toBe('MESSAGE sip:1002@pbx.example.com SIP/2.0\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nhi ☎');
    const response: SipResponse = { kind: 'response', status: 200, reason: 'OK', headers: new SipHeaders(), body: Buffer.alloc(0) };
    expect(serializeMessage(response).toString()).toBe('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('createResponse', () => {
  it('copies Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6) and tags the To', () => {
    const invite = asRequest(JSSIP_INVITE);
    invite.headers.append('Via', 'SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe');
    const ringing = createResponse(invite, 180, undefined, { toTag: 'abc123' });
    expect(ringing.reason).toBe('Ringing');
    expect(ringing.headers.entries()).toEqual([
      ['Via', 'SIP/2.0/WSS 4sa7ljgkoqq5.invalid;branch=z9hG4bK5087164'],
      ['Via', 'SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe'],
      ['From', '"Alice Example" <sip:1001@pbx.example.com>;tag=m0cu6ub1pe'],
      ['To', '<sip:1002@pbx.example.com>;tag=abc123'],
      ['Call-ID', 'vb3i1p4dmk2a6h7rhtkr'],
      ['CSeq', '6519 INVITE'],
      ['Content-Length', '0'],
    ]);
  });

  it('keeps an existing To tag, adds headers and a body', () => {
    const bye = asRequest(JSSIP_BYE);
    const ok = createResponse(bye, 200, 'Bye', { toTag: 'other', headers: [['Server', 'Offhook']], body: Buffer.from('x'), contentType: 'text/plain' });
    expect(ok.headers.get('To')).toBe('<sip:1002@pbx.example.com>;tag=9f0c2a61d4e8b375');
    expect([ok.reason, ok.headers.get('Server'), ok.headers.get('Content-Type'), ok.headers.get('Content-Length')]).toEqual(['Bye', 'Offhook', 'text/plain', '1']);
    expect(parseMessage(serializeMessage(ok))).toMatchObject({ kind: 'response', status: 200 });
  });

  it('answers from the partial headers of a malformed request', () => {
    let error: SipParseError | undefined;
    try {
      parseMessage(JSSIP_INVITE.replace('CSeq: 6519 INVITE', 'CSeq: 6519 BYE'));
    } catch (e) {
      error = e as SipParseError;
    }
    expect(error?.reason).toBe('Bad Request - CSeq method mismatch');
    const request: SipRequest = { kind: 'request', method: 'INVALID', uri: 'sip:invalid', headers: error?.partial ?? new SipHeaders(), body: Buffer.alloc(0) };
    const reply = createResponse(request, 400, error?.reason);
    expect(serializeMessage(reply).toString()).toContain('SIP/2.0 400 Bad Request - CSeq method mismatch\r\nVia: SIP/2.0/WSS 4sa7ljgkoqq5.invalid;branch=z9hG4bK5087164\r\n');
  });

  it('knows the common reason phrases', () => {
    expect([REASON_PHRASES[100], REASON_PHRASES[481], REASON_PHRASES[603]]).toEqual(['Trying', 'Call/Transaction Does Not Exist', 'Decline']);
  });
});

describe('identifiers', () => {
  it('makes unique tags, cookie-prefixed branches and Call-IDs', () => {
    const tags = new Set(Array.from({ length: 2000 }, generateTag));
    expect(tags.size).toBe(2000);
    expect(generateBranch()).toMatch(/^z9hG4bK[0-9a-f]{20}$/);
    expect(generateCallId('pbx.example.com')).toMatch(/^[0-9a-f]{24}@pbx\.example\.com$/);
    expect(generateCallId()).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe('SipStreamParser', () => {
  const stream = Buffer.from(`\r\n${JSSIP_INVITE}\r\n\r\n${JSSIP_ACK}${JSSIP_BYE}`);

  it('frames messages by Content-Length however the bytes are split, skipping keep-alive CRLFs', () => {
    for (const size of [1, 7, 64, 1000, stream.length]) {
      const parser = new SipStreamParser();
      const out: SipMessage[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...parser.push(stream.subarray(i, i + size)));
      expect(out.map((m) => (m.kind === 'request' ? m.method : m.status))).toEqual(['INVITE', 'ACK', 'BYE']);
      expect(out[0]?.body.toString()).toBe(OFFER_SDP);
    }
  });

  it('treats a message without Content-Length as a broken stream', () => {
    const parser = new SipStreamParser();
    const text = JSSIP_BYE.replace('Content-Length: 0\r\n', '');
    expect(() => parser.push(Buffer.from(text))).toThrow('Bad Request - Missing Content-Length');
    expect(() => parser.push(Buffer.from(JSSIP_BYE))).toThrow(SipParseError);
  });

  it('refuses messages beyond maxMessageBytes, before the whole message has arrived', () => {
    const parser = new SipStreamParser({ maxMessageBytes: 1000 });
    expect(() => parser.push(Buffer.from(JSSIP_INVITE.slice(0, 900)))).toThrow('Message Too Large');
    const endless = new SipStreamParser({ maxMessageBytes: 1000 });
    expect(() => endless.push(Buffer.from(`INVITE sip:a@b SIP/2.0\r\nX: ${'y'.repeat(2000)}`))).toThrow('Message Too Large');
  });

  it('returns the good messages before a malformed one, then reports it and carries on', () => {
    const parser = new SipStreamParser();
    const bad = JSSIP_ACK.replace('CSeq: 6519 ACK', 'CSeq: 6519 BYE');
    expect(parser.push(Buffer.from(JSSIP_INVITE + bad + JSSIP_BYE)).map((m) => m.kind === 'request' && m.method)).toEqual(['INVITE']);
    expect(() => parser.push(Buffer.alloc(0))).toThrow('Bad Request - CSeq method mismatch');
    expect(parser.push(Buffer.alloc(0)).map((m) => m.kind === 'request' && m.method)).toEqual(['BYE']);
  });
});
