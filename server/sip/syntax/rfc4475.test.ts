/* eslint-disable max-lines -- RFC 4475's torture messages in the RFC's order, one file as the RFC is one set (see below). */
/**
 * Why one file past 500 lines: it is the RFC's set of messages, in the RFC's order, so that it can be checked
 * against the RFC section by section.
 *
 * RFC 4475, the SIP torture test messages, written out from the RFC. §3.1.1 messages must parse;
 * §3.1.2 (and the parser-relevant ones of §3.3) must be rejected with a SipParseError that still holds
 * the headers needed for a 400, except where the RFC lets a receiver be liberal and we chose to be: those
 * say "accepted" in the test name.
 */
import { describe, expect, it } from 'vitest';
import { crlf, tortureSdp } from './fixtures/sdp';
import {
  parseCSeq, parseMessage, parseNameAddr, parseUri, parseVia, serializeMessage, SipParseError, uriEquals,
} from './message';
import type { SipMessage, SipRequest, SipResponse } from './message';

function request(data: Buffer | string): SipRequest {
  const message = parseMessage(data);
  expect(message.kind).toBe('request');
  return message as SipRequest;
}

function response(data: Buffer | string): SipResponse {
  const message = parseMessage(data);
  expect(message.kind).toBe('response');
  return message as SipResponse;
}

function rejection(data: Buffer | string): SipParseError {
  try {
    parseMessage(data);
  } catch (error) {
    expect(error).toBeInstanceOf(SipParseError);
    return error as SipParseError;
  }
  throw new Error('expected the message to be rejected');
}

/** What a UAS needs to build the 400: RFC 3261 §8.2.6.2. */
function expectAnswerable(error: SipParseError): void {
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) expect(error.partial?.has(name), name).toBe(true);
}

function expectRoundTrip(message: SipMessage): void {
  const again = parseMessage(serializeMessage(message));
  expect(again.kind).toBe(message.kind);
  expect(again.headers.entries()).toEqual(message.headers.entries().map(([n, v]) => [n, n === 'Content-Length' ? `${message.body.length}` : v]));
  expect(again.body.equals(message.body)).toBe(true);
  if (again.kind === 'request' && message.kind === 'request') {
    expect([again.method, again.uri]).toEqual([message.method, message.uri]);
  }
}

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('wsinv: a short tortuous INVITE (folding, odd whitespace, compact forms, unknown headers)', () => {
    const text = crlf(String.raw`INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

`) + tortureSdp('192.0.2.3', '192.0.2.4');
    const message = request(text);
    expect(message.method).toBe('INVITE');
    expect(parseUri(message.uri).params).toEqual({ unknownparam: null });
    const h = message.headers;
    expect(parseNameAddr(h.get('To') ?? '').params.tag).toBe('1918181833n');
    const from = parseNameAddr(h.get('From') ?? '');
    expect(from.displayName).toBe('J Rosenberg \\"');
    expect(from.params.tag).toBe('98asjd8');
    expect(h.get('Max-Forwards')).toBe('0068');
    expect(parseCSeq(h.get('CSeq') ?? '')).toEqual({ seq: 9, method: 'INVITE' });
    const vias = h.getAll('Via').map(parseVia);
    expect(vias.map((v) => [v.transport, v.host, v.params.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(h.get('Subject')).toBe('');
    expect(h.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(h.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(parseNameAddr(h.get('Route') ?? '').uri.params).toEqual({ lr: null, unknownwith: 'value', 'unknown-no-value': null });
    const contact = parseNameAddr(h.get('Contact') ?? '');
    expect(contact.displayName).toBe('Quoted string ""');
    expect(contact.params).toEqual({ newparam: 'newvalue', secondparam: null, q: '0.33' });
    expect(h.entries().map(([name]) => name)).toEqual([
      'To', 'From', 'Max-Forwards', 'Call-ID', 'Content-Length', 'CSeq', 'Via', 'Subject', 'NewFangledHeader',
      'UnknownHeaderWithUnusualValue', 'Content-Type', 'Route', 'Via', 'Contact',
    ]);
    expect(message.body.length).toBe(150);
    expectRoundTrip(message);
  });

  it('intmeth: a wide range of valid characters in method, URI, quoted strings, tokens and Call-ID', () => {
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    const uri = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
    const text = [
      `${method} ${uri} SIP/2.0`,
      "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
      "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
      "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
      "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
      `CSeq: 139122385 ${method}`,
      'Max-Forwards: 255',
      "extensionHeader-!.%*+_`'~:\uFEFF大停電",
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const message = request(Buffer.from(text, 'utf8'));
    expect(message.method).toBe(method);
    const ruri = parseUri(message.uri);
    expect(ruri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(ruri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(ruri.host).toBe('example.com');
    expect(parseNameAddr(message.headers.get('To') ?? '').displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    const from = parseNameAddr(message.headers.get('From') ?? '');
    expect(from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(from.params).toEqual({ "fromparam''~+*_!.-%": '"работающий"', tag: "_token~1'+`*%!-." });
    expect(message.headers.get('Call-ID')).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(parseVia(message.headers.get('Via') ?? '').params.branch).toBe("z9hG4bK-.!%66*_+`'~");
    expect(message.headers.get("extensionheader-!.%*+_`'~")).toBe('\uFEFF大停電');
    expectRoundTrip(message);
  });

  it('esc01: valid use of the % escaping mechanism', () => {
    const text = crlf(`INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

`) + tortureSdp('192.0.2.1', '192.0.2.1');
    const message = request(text);
    expect(parseUri(message.uri).user).toBe('sips:user@example.com');
    const to = parseNameAddr(message.headers.get('To') ?? '').uri;
    expect(to.user).toBe('user');
    expect(uriEquals(to, parseUri('sip:user@example.com'))).toBe(true);
    expect(parseNameAddr(message.headers.get('From') ?? '').uri.user).toBe('I have spaces');
    const contact = parseNameAddr(message.headers.get('Contact') ?? '').uri;
    expect(contact.user).toBe('caller');
    expect(contact.params).toEqual({ lr: null, name: 'value%41' });
    expect(message.headers.get('Content-Type')).toBe('application/sdp');
    expectRoundTrip(message);
  });

  it('escnull: escaped nulls in URIs', () => {
    const text = crlf(`REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

`);
    const message = request(text);
    expect(parseNameAddr(message.headers.get('To') ?? '').uri.user).toBe('null-\0-null');
    expect(message.headers.getAll('Contact').map((c) => parseNameAddr(c).uri.user)).toEqual(['\0', '\0\0']);
    expect(message.headers.get('Content-Length')).toBe('0');
    expectRoundTrip(message);
  });

  it('esc02: % where it is not an escape (method, header name, branch)', () => {
    const text = crlf(`RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

`);
    const message = request(text);
    expect(message.method).toBe('RE%47IST%45R');
    expect(parseNameAddr(message.headers.get('To') ?? '').displayName).toBe('%Z%45');
    expect(message.headers.getAll('Contact')).toHaveLength(2);
    expect(message.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    expectRoundTrip(message);
  });

  it('lwsdisp: no LWS between display name and <', () => {
    const text = crlf(`OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

`);
    const from = parseNameAddr(request(text).headers.get('From') ?? '');
    expect(from.displayName).toBe('caller');
    expect(from.params.tag).toBe('323');
  });

  it('longreq: long values in header fields', () => {
    const r = (s: string, n: number) => s.repeat(n);
    const caller = r('amazinglylongcallername', 5);
    const vias = [
      'Via: SIP/2.0/TCP sip33.example.com', 'v: SIP/2.0/TCP sip32.example.com', 'V: SIP/2.0/TCP sip31.example.com',
      'Via: SIP/2.0/TCP sip30.example.com', 'ViA: SIP/2.0/TCP sip29.example.com', 'VIa: SIP/2.0/TCP sip28.example.com',
      'VIA: SIP/2.0/TCP sip27.example.com', 'via: SIP/2.0/TCP sip26.example.com', 'viA: SIP/2.0/TCP sip25.example.com',
      'vIa: SIP/2.0/TCP sip24.example.com', 'vIA: SIP/2.0/TCP sip23.example.com', 'V :  SIP/2.0/TCP sip22.example.com',
      'v :  SIP/2.0/TCP sip21.example.com', 'V  : SIP/2.0/TCP sip20.example.com', 'v  : SIP/2.0/TCP sip19.example.com',
      'Via : SIP/2.0/TCP sip18.example.com', 'Via  : SIP/2.0/TCP sip17.example.com',
      ...Array.from({ length: 16 }, (_, k) => `Via: SIP/2.0/TCP sip${16 - k}.example.com`),
      `Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very${r('long', 50)}branchvalue`,
    ];
    const text = [
      'INVITE sip:user@example.com SIP/2.0',
      `To: "I have a user name of ${r('extreme ', 10)} proportion"<sip:user@example.com:6000;unknownparam1=very${r('long', 20)}value;longparam${r('name', 25)}=shortvalue;very${r('long', 25)}ParameterNameWithNoValue>`,
      `F: sip:${caller}@example.net;tag=12${r('982', 50)}424;unknownheaderparam${r('name', 20)}=unknowheaderparam${r('value', 15)};unknownValueless${r('paramname', 10)}`,
      `Call-ID: longreq.one${r('really', 20)}longcallid`,
      'CSeq: 3882340 INVITE',
      `Unknown-${r('Long', 20)}-Name:unknown-${r('long', 20)}-value;unknown-${r('long', 20)}-parameter-name = unknown-${r('long', 20)}-parameter-value`,
      ...vias,
      'Max-Forwards: 70',
      `Contact: <sip:${caller}@host5.example.net>`,
      'Content-Type: application/sdp',
      'l: 150',
      '',
      tortureSdp('192.0.2.1', '192.0.2.1'),
    ].join('\r\n');
    const message = request(text);
    expect(message.headers.getAll('Via')).toHaveLength(34);
    expect(parseVia(message.headers.getAll('Via')[33] ?? '').params.branch).toBe(`very${r('long', 50)}branchvalue`);
    const to = parseNameAddr(message.headers.get('To') ?? '');
    expect(to.uri.port).toBe(6000);
    expect(to.uri.params[`very${r('long', 25)}parameternamewithnovalue`]).toBeNull();
    const from = parseNameAddr(message.headers.get('From') ?? '');
    expect(from.uri.user).toBe(caller);
    expect(from.params.tag).toBe(`12${r('982', 50)}424`);
    expect(from.params[`unknownvaluelessparamname${r('paramname', 9)}`]).toBeNull();
    expect(message.body.length).toBe(150);
    expectRoundTrip(message);
  });

  it('dblreq: extra trailing octets in a UDP datagram are ignored', () => {
    const text = crlf(`REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0

INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

`) + tortureSdp('192.0.2.15', '192.0.2.15').replace('m=video', 'm =video');
    const message = request(text);
    expect(message.method).toBe('REGISTER');
    expect(message.body.length).toBe(0);
    expect(message.headers.get('Call-ID')).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(message.headers.getAll('To')).toEqual(['sip:j.user@example.com']);
  });

  it('semiuri: semicolon-separated parameters in the URI user part', () => {
    const text = crlf(`OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

`);
    const message = request(text);
    const uri = parseUri(message.uri);
    expect(uri.user).toBe('user;par=u@example.net');
    expect(uri.params).toEqual({});
    expect(message.headers.getAll('Accept')).toEqual([
      'application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag',
    ]);
    expectRoundTrip(message);
  });

  it('transports: varied and unknown transport types', () => {
    const text = crlf(`OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

`);
    const message = request(text);
    expect(message.headers.get('Call-ID')).toBe('transports.kijh4akdnaqjkwendsasfdj');
    expect(message.headers.getAll('Via').map((v) => parseVia(v).transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('mpart01: a multipart MIME body with binary content, CRLFs inside it included', () => {
    const boundary = '7a9cbec02ceef655';
    const head = crlf(`--${boundary}
Content-Type: text/plain
Content-Transfer-Encoding: binary

Hello
--${boundary}
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

`);
    const tail = `\r\n--${boundary}--\r\n`;
    // The RFC's second part is a DER-encoded signature; any octets do, as long as CR LF CR LF and NUL are among them.
    const binaryLength = 553 - Buffer.byteLength(head) - Buffer.byteLength(tail);
    const binary = Buffer.alloc(binaryLength);
    let seed = 0x30820;
    for (let i = 0; i < binary.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      binary[i] = seed >>> 24;
    }
    binary.write('\r\n\r\n\0', 40, 'latin1');
    const body = Buffer.concat([Buffer.from(head), binary, Buffer.from(tail)]);
    expect(body.length).toBe(553);
    const headers = crlf(`MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=${boundary}
Date: Sat, 15 Oct 2005 04:44:56 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
Content-Length: 553

`);
    const message = request(Buffer.concat([Buffer.from(headers), body]));
    expect(message.body.equals(body)).toBe(true);
    const via = parseVia(message.headers.get('Via') ?? '');
    expect([via.host, via.port, via.params.rport]).toEqual(['127.0.0.1', 5070, null]);
    expect(message.headers.get('Date')).toBe('Sat, 15 Oct 2005 04:44:56 GMT');
    expectRoundTrip(message);
  });

  it('unreason: an unusual reason phrase in UTF-8', () => {
    const text = crlf(`SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

`) + tortureSdp('192.0.2.198', '192.0.2.198');
    const message = response(Buffer.from(text, 'utf8'));
    expect(message.status).toBe(200);
    expect(message.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    expect(message.body.length).toBe(154);
    expect(parseMessage(serializeMessage(message))).toMatchObject({ reason: message.reason });
  });

  it('noreason: an empty reason phrase', () => {
    const text = crlf(`SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

`);
    const message = response(text);
    expect(message.status).toBe(100);
    expect(message.reason).toBe('');
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  it('badinv01: extraneous header field separators are rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

`) + tortureSdp('192.0.2.15', '192.0.2.15'));
    expect(error.reason).toBe('Bad Request - Malformed Via');
    expectAnswerable(error);
  });

  it('clerr: a Content-Length larger than the datagram is rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

`) + tortureSdp('192.0.2.155', '192.0.2.155'));
    expect(error.reason).toBe('Bad Request - Body shorter than Content-Length');
    expectAnswerable(error);
  });

  it('ncl: a negative Content-Length is rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

`) + tortureSdp('192.0.2.53', '192.0.2.53'));
    expect(error.reason).toBe('Bad Request - Invalid Content-Length');
    expectAnswerable(error);
  });

  it('scalar02: overlarge scalar values in a request are rejected (CSeq beyond 2**31)', () => {
    const error = rejection(crlf(`REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1${'0'.repeat(110)}
Contact: <sip:user@host129.example.com>;expires=280297596632815
Content-Length: 0

`));
    expect(error.reason).toBe('Bad Request - CSeq out of range');
    expectAnswerable(error);
  });

  it('scalar02 with only Max-Forwards out of range is still rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 1 OPTIONS
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Content-Length: 0

`));
    expect(error.reason).toBe('Bad Request - Invalid Max-Forwards');
  });

  it('scalarlg: overlarge scalar values in a response are rejected', () => {
    const error = rejection(crlf(`SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

`));
    expect(error.reason).toBe('Bad Request - CSeq out of range');
  });

  it('quotbal: an unterminated quoted string in a display name is rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

`) + tortureSdp('192.0.2.15', '192.0.2.15'));
    expect(error.reason).toBe('Bad Request - Malformed To');
    expectAnswerable(error);
  });

  it('ltgtruri: a Request-URI enclosed in <> is rejected', () => {
    const error = rejection(crlf(`INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 159

`) + tortureSdp('192.0.2.5', '192.0.2.5', 't=3149328700 0'));
    expect(error.reason).toBe('Bad Request - Malformed Request-URI');
    expectAnswerable(error);
  });

  it('lwsruri: LWS inside the Request-URI is rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 159

`) + tortureSdp('192.0.2.1', '192.0.2.1', 't=3149328700 0'));
    expect(error.reason).toBe('Bad Request - Malformed Request-URI');
    expectAnswerable(error);
  });

  it('lwsstart: multiple SP between Request-Line elements are rejected', () => {
    const error = rejection(crlf(`INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

`) + tortureSdp('192.0.2.1', '192.0.2.1'));
    expect(error.reason).toBe('Bad Request - Malformed Request-URI');
    expectAnswerable(error);
  });

  it('trws: SP at the end of the Request-Line is rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:remote-target@example.com SIP/2.0  
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

`));
    expect(error.reason).toBe('Bad Request - Malformed SIP version');
    expectAnswerable(error);
  });

  it('escruri: escaped headers in the Request-URI are rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

`) + tortureSdp('192.0.2.1', '192.0.2.1'));
    expect(error.reason).toBe('Bad Request - Headers in Request-URI');
    expectAnswerable(error);
  });

  it('baddate: a non-GMT Date is accepted, since Date is informational and we never read it', () => {
    const message = request(crlf(`INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

`) + tortureSdp('192.0.2.5', '192.0.2.5'));
    expect(message.headers.getAll('Date')).toEqual(['Fri, 01 Jan 2010 16:00:00 EST']);
  });

  it('regbadct: a Contact URI with escaped headers outside <> is rejected', () => {
    const error = rejection(crlf(`REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

`));
    expect(error.reason).toBe('Bad Request - Malformed Contact');
    expectAnswerable(error);
  });

  it('badaspec: spaces inside <> around an addr-spec are rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

`));
    expect(error.reason).toBe('Bad Request - Malformed To');
    expectAnswerable(error);
  });

  it('baddn: non-token characters in an unquoted display name are rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

`));
    expect(error.reason).toBe('Bad Request - Malformed From');
    expectAnswerable(error);
  });

  it('badvers: an unknown protocol version is rejected with a 505 hint', () => {
    const error = rejection(crlf(`OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

`));
    expect(error.status).toBe(505);
    expect(error.reason).toBe('Bad Request - Unsupported SIP version');
    expectAnswerable(error);
  });

  it('mismatch01: a CSeq method that differs from the request method is rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

`));
    expect(error.reason).toBe('Bad Request - CSeq method mismatch');
    expectAnswerable(error);
  });

  it('mismatch02: an unknown method with a mismatched CSeq method is rejected', () => {
    const body = tortureSdp('192.0.2.1', '192.0.2.1').replace('s=-\r\n', '').replace('t=0 0\r\n', '');
    expect(body.length).toBe(138);
    const error = rejection(crlf(`NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

`) + body);
    expect(error.reason).toBe('Bad Request - CSeq method mismatch');
    expectAnswerable(error);
  });

  it('bigcode: an overlarge response code is rejected', () => {
    const error = rejection(crlf(`SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

`));
    expect(error.reason).toBe('Bad Request - Malformed Status-Line');
  });
});

describe('RFC 4475 §3.3 and §3.4, as far as they concern the parser', () => {
  it('insuf: missing required headers are rejected, keeping the Via and CSeq that were there', () => {
    const error = rejection(crlf(`INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 152

`) + tortureSdp('192.0.2.95', '192.0.2.95'));
    expect(error.reason).toBe('Bad Request - Missing From');
    expect(error.partial?.get('CSeq')).toBe('193942 INVITE');
    expect(error.partial?.has('Via')).toBe(true);
  });

  it('multi01: multiple values in single-value headers are rejected', () => {
    const error = rejection(crlf(`INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: 154
Call-ID: multi01.98asdh@192.0.2.3
Max-Forwards: 5

`) + tortureSdp('192.0.2.25', '192.0.2.25'));
    expect(error.reason).toBe('Bad Request - Multiple From headers');
    expectAnswerable(error);
  });

  it('mcl01: multiple Content-Length values are rejected', () => {
    const error = rejection(crlf(`OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.
`));
    expect(error.reason).toBe('Bad Request - Multiple Content-Length headers');
    expectAnswerable(error);
  });

  it('unkscm and novelsc: unknown Request-URI schemes parse (the UAS answers 416)', () => {
    for (const [uri, id] of [['nobodyKnowsThisScheme:totallyopaquecontent', 'unkscm'], ['soap.beep://192.0.2.103:3002', 'novelsc']]) {
      const message = request(crlf(`OPTIONS ${uri} SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: ${id}.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

`));
      expect(message.uri).toBe(uri);
      expect(() => parseUri(message.uri)).toThrow(SipParseError);
    }
  });

  it('unksm2: a REGISTER whose To and From are URIs of other schemes parses (the registrar answers 400)', () => {
    const message = request(crlf(`REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <sip:jdrosen@example.com>
l: 0

`));
    expect(parseNameAddr(message.headers.get('To') ?? '').uri).toMatchObject({ scheme: 'isbn', opaque: '2983792873' });
    expect(parseNameAddr(message.headers.get('From') ?? '')).toMatchObject({ uri: { scheme: 'http', opaque: '//www.example.com' }, params: { tag: '3234233' } });
    expectRoundTrip(message);
  });

  it('zeromf: Max-Forwards of zero parses (the element answers OPTIONS itself)', () => {
    const message = request(crlf(`OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
Content-Length: 0

`));
    expect(message.headers.get('Max-Forwards')).toBe('0');
  });

  it('cparam01 and cparam02: a Contact parameter outside <> is a header parameter, inside it a URI parameter', () => {
    const register = (contact: string) => request(crlf(`REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
Contact: ${contact}
l: 0

`));
    const outside = parseNameAddr(register('sip:+19725552222@gw1.example.net;unknownparam').headers.get('Contact') ?? '');
    expect(outside.params).toEqual({ unknownparam: null });
    expect(outside.uri.params).toEqual({});
    const inside = parseNameAddr(register('<sip:+19725552222@gw1.example.net;unknownparam>').headers.get('Contact') ?? '');
    expect(inside.params).toEqual({});
    expect(inside.uri.params).toEqual({ unknownparam: null });
  });

  it('regescrt: escaped headers inside a Contact enclosed in <> parse', () => {
    const message = request(crlf(`REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
L:0

`));
    expect(parseNameAddr(message.headers.get('Contact') ?? '').uri.headers).toEqual({ Route: '<sip:sip.example.com>' });
  });

  it('inv2543: an RFC 2543 INVITE without Max-Forwards, Content-Length or a branch parses, body to the end', () => {
    const body = tortureSdp('192.0.2.5', '192.0.2.5');
    const message = request(crlf(`INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

`) + body);
    expect(message.headers.has('Max-Forwards')).toBe(false);
    expect(message.body.toString()).toBe(body);
    expect(parseVia(message.headers.get('Via') ?? '').params).toEqual({});
    expect(parseNameAddr(message.headers.get('To') ?? '').params).toEqual({ user: 'phone' });
  });
});
