import { describe, expect, it } from 'vitest';
import {
  formatAuthParams, formatNameAddr, formatVia, parseAuthorization, parseCSeq, parseNameAddr, parseVia,
} from './header-values';
import { SipParseError } from './parse-error';

describe('Via', () => {
  it('reads sent-protocol, sent-by and parameters, upper-casing the transport', () => {
    expect(parseVia('SIP/2.0/wss 4sa7ljgkoqq5.invalid;branch=z9hG4bK2738861;rport')).toEqual({
      protocol: 'SIP/2.0', transport: 'WSS', host: '4sa7ljgkoqq5.invalid', params: { branch: 'z9hG4bK2738861', rport: null },
    });
    expect(parseVia('SIP/2.0/UDP [2001:db8::9]:5062;received=2001:db8::1;branch=z9hG4bKx')).toMatchObject({
      host: '[2001:db8::9]', port: 5062, params: { received: '2001:db8::1' },
    });
    expect(parseVia('SIP / 2.0 / TCP host.example.com : 5060 ; Branch = z9hG4bKy')).toMatchObject({ port: 5060, params: { branch: 'z9hG4bKy' } });
  });

  it('formats what it parsed', () => {
    const text = 'SIP/2.0/TLS pbx.example.com:5061;branch=z9hG4bKabc;received=192.0.2.1;rport=5061';
    expect(formatVia(parseVia(text))).toBe(text);
  });

  it.each(['', 'SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP host;branch=', 'SIP/2.0/UDP a, SIP/2.0/UDP b'])(
    'rejects %j',
    (text) => expect(() => parseVia(text)).toThrow(SipParseError),
  );
});

describe('name-addr and addr-spec', () => {
  it('reads the forms From, To and Contact take', () => {
    expect(parseNameAddr('"Alice \\"Al\\" Example" <sip:1001@pbx.example.com>;tag=abc')).toMatchObject({
      displayName: 'Alice "Al" Example', uri: { user: '1001' }, params: { tag: 'abc' },
    });
    expect(parseNameAddr('Bob Smith <sip:bob@example.com>')).toMatchObject({ displayName: 'Bob Smith' });
    const bare = parseNameAddr('sip:bob@example.com;transport=tcp;tag=1');
    expect(bare.displayName).toBeUndefined();
    expect(bare.uri.params).toEqual({});
    expect(bare.params).toEqual({ transport: 'tcp', tag: '1' });
    expect(parseNameAddr('sip:a@b;+sip.instance="<urn:uuid:1>"').params).toEqual({ '+sip.instance': '"<urn:uuid:1>"' });
  });

  it('formats with quotes and <> so the result always reparses to the same thing', () => {
    const value = { displayName: 'Ann "the" Boss\\', uri: { scheme: 'sip' as const, user: 'ann', host: 'example.com', params: { transport: 'ws' }, headers: {} }, params: { tag: 'x', expires: '600', ob: null } };
    const text = formatNameAddr(value);
    expect(text).toBe('"Ann \\"the\\" Boss\\\\" <sip:ann@example.com;transport=ws>;tag=x;expires=600;ob');
    expect(parseNameAddr(text)).toEqual(value);
  });

  it.each(['', '"unterminated <sip:a@b>', 'Bell, Alexander <sip:a@b>', '< sip:a@b >', '<sip:a@b', 'sip:a@b?x=y', 'sip:a@b;;', '<sip:a@b> garbage'])(
    'rejects %j',
    (text) => expect(() => parseNameAddr(text)).toThrow(SipParseError),
  );
});

describe('CSeq', () => {
  it('reads number and method', () => {
    expect(parseCSeq('0009 INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('2147483647 BYE')).toEqual({ seq: 2147483647, method: 'BYE' });
  });

  it.each(['INVITE', '1', '1INVITE', '-1 INVITE', '2147483648 INVITE', '1 INVITE extra'])('rejects %j', (text) => {
    expect(() => parseCSeq(text)).toThrow(SipParseError);
  });
});

describe('Digest credentials and challenges', () => {
  it('unquotes values, undoes escapes and lower-cases names', () => {
    expect(parseAuthorization('Digest Username="a\\"b", REALM="x, y",nc=00000001 , qop=auth')).toEqual({
      scheme: 'Digest', params: { username: 'a"b', realm: 'x, y', nc: '00000001', qop: 'auth' },
    });
  });

  it('formats parameters quoted or as tokens', () => {
    const text = formatAuthParams('Digest', [['realm', 'pbx "main"', 'quoted'], ['nonce', 'abc', 'quoted'], ['algorithm', 'SHA-256', 'token'], ['qop', 'auth', 'quoted']]);
    expect(text).toBe('Digest realm="pbx \\"main\\"", nonce="abc", algorithm=SHA-256, qop="auth"');
    expect(parseAuthorization(text).params.realm).toBe('pbx "main"');
  });

  it.each(['', 'Digest username', 'Digest username="open', 'Digest a=1 b=2', 'Digest a=1,,'])('rejects %j', (text) => {
    expect(() => parseAuthorization(text)).toThrow(SipParseError);
  });
});

describe('name-addr with an absoluteURI (RFC 3261 §25.1)', () => {
  it('holds a URI of another scheme as written, with its header parameters read as usual', () => {
    const from = parseNameAddr('"Web" <http://www.example.com/a?b=c;d>;tag=3234233');
    expect(from).toMatchObject({ displayName: 'Web', uri: { scheme: 'http', opaque: '//www.example.com/a?b=c;d', host: '', params: {}, headers: {} }, params: { tag: '3234233' } });
    expect(from.uri.user).toBeUndefined();
    expect(formatNameAddr(from)).toBe('"Web" <http://www.example.com/a?b=c;d>;tag=3234233');
    // The bare form, as RFC 4475 §3.3.4 writes its To; ';' there starts a header parameter.
    expect(parseNameAddr('isbn:2983792873;tag=x')).toMatchObject({ uri: { scheme: 'isbn', opaque: '2983792873' }, params: { tag: 'x' } });
    expect(parseNameAddr('<MailTo:someone%40example.com>').uri).toMatchObject({ scheme: 'mailto', opaque: 'someone%40example.com' });
  });

  it.each(['<http:>', '<1http://x>', '<ht tp://x>', '<http://x y>', '<http://x%4>', '<http://x"y>', '<:x>', 'http://x?y'])('rejects %j', (text) => {
    expect(() => parseNameAddr(text)).toThrow(SipParseError);
  });
});
