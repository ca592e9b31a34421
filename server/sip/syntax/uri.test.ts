import { describe, expect, it } from 'vitest';
import { SipParseError } from './parse-error';
import { formatUri, isSipScheme, parseAbsoluteUri, parseUri, uriEquals } from './uri';

describe('parseUri', () => {
  it('reads every part of a SIP URI', () => {
    expect(parseUri('sips:alice:secret@Atlanta.example.com:5061;transport=TLS;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent')).toEqual({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Atlanta.example.com',
      port: 5061,
      params: { transport: 'TLS', lr: null, maddr: '239.255.255.1' },
      headers: { subject: 'project x', priority: 'urgent' },
    });
  });

  it('keeps IPv6 references in brackets', () => {
    expect(parseUri('sip:[2001:db8::10]:5070;transport=tcp')).toMatchObject({ host: '[2001:db8::10]', port: 5070 });
    expect(parseUri('sip:1002@[2001:db8::10]')).toMatchObject({ user: '1002', host: '[2001:db8::10]' });
  });

  it('lower-cases scheme and parameter names, keeps parameter values', () => {
    expect(parseUri('SIP:bob@biloxi.example.com;Transport=UDP;USER=phone')).toMatchObject({
      scheme: 'sip',
      params: { transport: 'UDP', user: 'phone' },
    });
  });

  it('puts a tel: number in user', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      scheme: 'tel',
      user: '+1-201-555-0123',
      host: '',
      params: { 'phone-context': 'example.com' },
      headers: {},
    });
  });

  it.each([
    ['', 'empty'],
    ['sip:', 'no host'],
    ['sip:@example.com', 'empty user'],
    ['sip:alice@', 'no host after @'],
    ['sip:alice@example.com:99999', 'port out of range'],
    ['sip:alice@example.com:', 'empty port'],
    ['sip:al ice@example.com', 'space in user'],
    ['sip:alice@example.com; lr', 'space before a parameter'],
    ['sip:alice%4@example.com', 'truncated escape'],
    ['sip:alice%zz@example.com', 'bad escape'],
    ['sip:alice@[2001:db8::10', 'unclosed IPv6 reference'],
    ['sip:alice@example.com;=x', 'parameter without a name'],
    ['<sip:alice@example.com>', 'angle brackets'],
    ['http://example.com/', 'another scheme'],
    ['tel:', 'empty number'],
    ['tel:+1 555', 'space in number'],
  ])('rejects %j (%s)', (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });
});

describe('parameters', () => {
  it('takes any name as a plain parameter, inheriting nothing', () => {
    const uri = parseUri('sip:101@pbx.test;__proto__=x;constructor;toString=y');
    expect(uri.params.__proto__).toBe('x');
    expect(uri.params.constructor).toBeNull();
    expect(Object.keys(uri.params)).toEqual(['__proto__', 'constructor', 'tostring']);
    expect('hasOwnProperty' in uri.params).toBe(false);
    expect(formatUri(uri)).toBe('sip:101@pbx.test;__proto__=x;constructor;tostring=y');
  });
});

describe('formatUri', () => {
  it('re-escapes what the user part cannot hold literally', () => {
    const uri = parseUri('sip:I%20have%20spaces%40home@example.net');
    expect(uri.user).toBe('I have spaces@home');
    expect(formatUri(uri)).toBe('sip:I%20have%20spaces%40home@example.net');
    expect(formatUri({ ...uri, user: 'jürgen:1' })).toBe('sip:j%C3%BCrgen%3A1@example.net');
  });

  it('gives back what it parsed for URIs in canonical form', () => {
    for (const text of [
      'sip:u7b2k1qd@4sa7ljgkoqq5.invalid;transport=ws;ob',
      'sips:alice:secret@atlanta.example.com:5061;lr?subject=project%20x',
      'sip:[2001:db8::10]:5070',
      'sip:user;par=u%40example.net@example.com',
      'sip:%00%00@host5.example.com',
      'tel:+1-201-555-0123;phone-context=example.com',
    ]) {
      expect(formatUri(parseUri(text))).toBe(text);
    }
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  const same = (a: string, b: string) => uriEquals(parseUri(a), parseUri(b));

  it.each([
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['tel:+1-201-555-0123', 'tel:+1.201.555.0123'],
  ])('%s equals %s', (a, b) => {
    expect(same(a, b)).toBe(true);
    expect(same(b, a)).toBe(true);
  });

  it.each([
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['sip:alice@atlanta.com;maddr=10.0.0.1', 'sip:alice@atlanta.com'],
  ])('%s differs from %s', (a, b) => {
    expect(same(a, b)).toBe(false);
    expect(same(b, a)).toBe(false);
  });
});

describe('absolute URIs of other schemes (RFC 3261 §25.1)', () => {
  it('hold their text, format back to it, and compare by scheme and text', () => {
    const web = parseAbsoluteUri('HTTP://www.example.com/a%20b?c=d');
    expect(web).toMatchObject({ scheme: 'http', opaque: '//www.example.com/a%20b?c=d', host: '' });
    expect(formatUri(web)).toBe('http://www.example.com/a%20b?c=d');
    expect(uriEquals(web, parseAbsoluteUri('http://www.example.com/a%20b?c=d'))).toBe(true);
    expect(uriEquals(web, parseAbsoluteUri('http://www.example.com/other'))).toBe(false);
    expect(uriEquals(parseAbsoluteUri('sipx:a@b'), parseUri('sip:a@b'))).toBe(false);
    expect(isSipScheme('SIPS:a@b')).toBe(true);
    expect(isSipScheme('http://a')).toBe(false);
  });
});
