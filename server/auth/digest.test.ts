import { describe, expect, it } from 'vitest';
import { buildChallenge, computeHa1, NonceStore, parseDigestAlgorithm, verifyDigestResponse } from './digest';

// Expected hashes below were computed outside this code (Python hashlib) or come from the RFCs.
describe('computeHa1', () => {
  it('hashes username:realm:password with MD5 and SHA-256', () => {
    expect(computeHa1('MD5', '101', 'demo.offhook.test', 'alice-101')).toBe('9cd29d6b8ca3ac6f179e975b9207f842');
    expect(computeHa1('SHA-256', '101', 'demo.offhook.test', 'alice-101')).toBe(
      '366c3e029b07739b81d6447048fc172e4be2ff1dc49ea7838ccad9ec87eff0ab',
    );
  });
});

describe('parseDigestAlgorithm', () => {
  it('defaults to MD5, ignores case and refuses what we do not support', () => {
    expect(parseDigestAlgorithm(undefined)).toBe('MD5');
    expect(parseDigestAlgorithm('md5')).toBe('MD5');
    expect(parseDigestAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseDigestAlgorithm('MD5-sess')).toBeUndefined();
    expect(parseDigestAlgorithm('SHA-512-256')).toBeUndefined();
  });
});

describe('verifyDigestResponse', () => {
  it('accepts the RFC 2617 §3.5 example', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    const params = {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    };
    expect(verifyDigestResponse({ params, method: 'GET', ha1Candidates: [ha1] })).toBe(true);
    expect(verifyDigestResponse({ params, method: 'POST', ha1Candidates: [ha1] })).toBe(false);
  });

  it('accepts the RFC 7616 §3.9.1 example with MD5 and SHA-256', () => {
    const base = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    };
    const md5 = { ...base, algorithm: 'MD5', response: '8ca523f5e9506fed4657c9700eebdbec' };
    const sha = { ...base, algorithm: 'SHA-256', response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1' };
    const ha1Md5 = computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    const ha1Sha = computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(verifyDigestResponse({ params: md5, method: 'GET', ha1Candidates: [ha1Md5] })).toBe(true);
    expect(verifyDigestResponse({ params: sha, method: 'GET', ha1Candidates: [ha1Sha] })).toBe(true);
    // An HA1 of the other algorithm never matches.
    expect(verifyDigestResponse({ params: sha, method: 'GET', ha1Candidates: [ha1Md5] })).toBe(false);
  });

  const register = {
    username: '101',
    realm: 'demo.offhook.test',
    nonce: 'n0nce-from-offhook',
    uri: 'sip:demo.offhook.test',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'c1ient-nonce',
  };
  const md5Ha1 = '9cd29d6b8ca3ac6f179e975b9207f842';
  const shaHa1 = '366c3e029b07739b81d6447048fc172e4be2ff1dc49ea7838ccad9ec87eff0ab';

  it('accepts a SIP REGISTER answered with MD5', () => {
    const params = { ...register, algorithm: 'MD5', response: 'd09028d7651e7b4403293a97bd21b442' };
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(true);
    expect(verifyDigestResponse({ params: { ...params, response: params.response.toUpperCase() }, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(true);
    expect(verifyDigestResponse({ params, method: 'INVITE', ha1Candidates: [md5Ha1] })).toBe(false);
    expect(verifyDigestResponse({ params: { ...params, nc: '00000002' }, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(false);
  });

  it('accepts a SIP REGISTER answered with SHA-256 (RFC 8760)', () => {
    const params = {
      ...register,
      algorithm: 'SHA-256',
      response: '889407d2cbd18d1b4b77e58da658d941b90454d12e398f44357f3d249f2b5489',
    };
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [shaHa1] })).toBe(true);
    expect(verifyDigestResponse({ params: { ...params, uri: 'sip:other.test' }, method: 'REGISTER', ha1Candidates: [shaHa1] })).toBe(false);
  });

  it('accepts a response without qop, as RFC 2069 clients send', () => {
    const { qop: _qop, nc: _nc, cnonce: _cnonce, ...legacy } = register;
    const md5 = { ...legacy, response: 'c1a4a4c17e851ac2b6da0181bf5aad13' };
    const sha = { ...legacy, algorithm: 'SHA-256', response: '2aaf44cc210c03d656b2c99ddcc0298d440142ec0b37c66ab3bdc0cc5cf5671d' };
    expect(verifyDigestResponse({ params: md5, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(true);
    expect(verifyDigestResponse({ params: sha, method: 'REGISTER', ha1Candidates: [shaHa1] })).toBe(true);
  });

  it('accepts a proxy-authenticated INVITE', () => {
    const params = {
      username: '102',
      realm: 'demo.offhook.test',
      nonce: 'abc123',
      uri: 'sip:101@demo.offhook.test',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'xyz',
      response: '57b31cbf2891d1c39864ac6370987088',
    };
    expect(verifyDigestResponse({ params, method: 'INVITE', ha1Candidates: ['7ac989c1c25adff6e473c9dadec1c84c'] })).toBe(true);
  });

  it('matches any of several live credentials', () => {
    const params = { ...register, response: 'd09028d7651e7b4403293a97bd21b442' };
    const others = [computeHa1('MD5', '101', 'demo.offhook.test', 'old'), computeHa1('MD5', '101', 'demo.offhook.test', 'older')];
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [...others, md5Ha1] })).toBe(true);
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: others })).toBe(false);
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [] })).toBe(false);
  });

  it.each([
    ['a -sess algorithm', { algorithm: 'MD5-sess' }],
    ['qop auth-int', { qop: 'auth-int' }],
    ['a nonce count that is not 8 hex digits', { nc: '1' }],
    ['a response of the wrong length', { response: 'd09028d7651e7b4403293a97bd21b4' }],
    ['a response that is not hex', { response: 'z09028d7651e7b4403293a97bd21b442' }],
  ])('refuses %s', (_name, change) => {
    const params: Record<string, string> = { ...register, response: 'd09028d7651e7b4403293a97bd21b442', ...change };
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(false);
  });

  it.each(['nonce', 'uri', 'response', 'cnonce'])('refuses a response without %s', (name) => {
    const params: Record<string, string> = { ...register, response: 'd09028d7651e7b4403293a97bd21b442' };
    delete params[name];
    expect(verifyDigestResponse({ params, method: 'REGISTER', ha1Candidates: [md5Ha1] })).toBe(false);
  });
});

describe('buildChallenge', () => {
  it('writes a challenge for MD5', () => {
    expect(buildChallenge({ realm: 'demo.offhook.test', nonce: 'abc', algorithm: 'MD5' })).toBe(
      'Digest realm="demo.offhook.test", nonce="abc", algorithm=MD5, qop="auth"',
    );
  });

  it('marks a stale nonce and carries opaque', () => {
    expect(buildChallenge({ realm: 'demo.offhook.test', nonce: 'abc', algorithm: 'SHA-256', stale: true, opaque: 'o1' })).toBe(
      'Digest realm="demo.offhook.test", nonce="abc", opaque="o1", algorithm=SHA-256, qop="auth", stale=true',
    );
    expect(buildChallenge({ realm: 'r', nonce: 'n', algorithm: 'MD5', stale: false })).not.toContain('stale');
  });

  it('escapes quotes and backslashes inside quoted values', () => {
    expect(buildChallenge({ realm: 'a"b\\c', nonce: 'n', algorithm: 'MD5' })).toBe(
      'Digest realm="a\\"b\\\\c", nonce="n", algorithm=MD5, qop="auth"',
    );
  });
});

describe('NonceStore', () => {
  function clock(start = 1_000_000) {
    let time = start;
    return { now: () => time, advance: (ms: number) => void (time += ms) };
  }

  it('issues distinct, quotable, unguessable nonces, across refills of the random pool', () => {
    const store = new NonceStore();
    const nonces = new Set(Array.from({ length: 1_000 }, () => store.issue('call-1')));
    expect(nonces.size).toBe(1_000);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('accepts a nonce once, for the Call-ID and the address it was issued to; a second answer is stale', () => {
    const store = new NonceStore();
    const nonce = store.issue('call-1@host', '192.0.2.1');
    expect(store.consume(nonce, 'call-2@host', '192.0.2.1')).toBe('unknown');
    // Answered in packets forged from another address: not ours to count against that address.
    expect(store.consume(nonce, 'call-1@host', '198.51.100.7')).toBe('unknown');
    expect(store.consume(nonce, 'call-1@host', '192.0.2.1')).toBe('ok');
    expect(store.consume(nonce, 'call-1@host', '192.0.2.1')).toBe('stale');
  });

  it('does not know a nonce it never issued', () => {
    expect(new NonceStore().consume('made-up', 'call-1')).toBe('unknown');
  });

  it('calls an expired nonce stale until it is forgotten', () => {
    const time = clock();
    const store = new NonceStore({ ttlMs: 30_000, now: time.now });
    const fresh = store.issue('call-1');
    const old = store.issue('call-1');
    time.advance(30_000);
    expect(store.consume(fresh, 'call-1')).toBe('ok');
    time.advance(1);
    expect(store.consume(old, 'call-1')).toBe('stale');
    expect(store.consume(old, 'call-1')).toBe('stale');
    time.advance(30_000);
    expect(store.consume(old, 'call-1')).toBe('unknown');
  });

  it('forgets nonces long expired when it issues new ones', () => {
    const time = clock();
    const store = new NonceStore({ ttlMs: 1_000, now: time.now });
    const old = store.issue('call-1');
    time.advance(1_500);
    store.issue('call-2');
    expect(store.size).toBe(2);
    time.advance(1_000);
    store.issue('call-3');
    expect(store.size).toBe(2);
    expect(store.consume(old, 'call-1')).toBe('unknown');
  });

  it('forgets nonces long expired when one is used, too: a quiet PBX keeps nothing for long', () => {
    const time = clock();
    const store = new NonceStore({ ttlMs: 1_000, now: time.now });
    store.issue('call-1');
    time.advance(2_500);
    expect(store.consume('made-up', 'call-2')).toBe('unknown');
    expect(store.size).toBe(0);
  });

  it('keeps a digest of the Call-ID, never the text of the request it was cut from', () => {
    const store = new NonceStore();
    const request = `INVITE sip:x SIP/2.0\r\nCall-ID: ${'c'.repeat(60_000)}\r\n`;
    const callId = request.slice(request.indexOf('Call-ID: ') + 9, -2);
    const nonce = store.issue(callId);
    const kept = (store as unknown as { entries: Map<string, { callId: string }> }).entries.get(nonce)?.callId ?? '';
    expect(kept.length).toBeLessThanOrEqual(44);
    expect(store.consume(nonce, 'c'.repeat(60_000))).toBe('ok');
  });

  it('holds at most maxEntries nonces, dropping the oldest', () => {
    const store = new NonceStore({ maxEntries: 3 });
    const nonces = ['a', 'b', 'c', 'd', 'e'].map((callId) => store.issue(callId));
    expect(store.size).toBe(3);
    expect(store.consume(nonces[0] ?? '', 'a')).toBe('unknown');
    expect(store.consume(nonces[1] ?? '', 'b')).toBe('unknown');
    expect(store.consume(nonces[4] ?? '', 'e')).toBe('ok');
  });

  it('refuses options that make no sense', () => {
    expect(() => new NonceStore({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => new NonceStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
