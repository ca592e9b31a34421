import { describe, expect, it } from 'vitest';
import { LruMap } from '../../util/lru-map';
import { SipSecurity, TokenBucket } from './security';
import { FakeConnection, serverTransaction, sipRequest } from '../test-support';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function options(userAgent?: string) {
  return sipRequest({
    method: 'OPTIONS',
    uri: 'sip:demo.offhook.test',
    from: '<sip:probe@client.invalid>;tag=1',
    to: '<sip:demo.offhook.test>',
    headers: userAgent ? [['User-Agent', userAgent]] : [],
  });
}

describe('LruMap', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(1);
    expect(map.get('c')).toBe(3);
    expect(map.size).toBe(2);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the refill rate', () => {
    const bucket = new TokenBucket(3, 1 / 1000, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(999)).toBe(false);
    expect(bucket.take(1000)).toBe(true);
    // Idle time refills up to the capacity, never beyond.
    expect([bucket.take(100_000), bucket.take(100_000), bucket.take(100_000), bucket.take(100_000)]).toEqual([true, true, true, false]);
  });
});

describe('SipSecurity', () => {
  it('drops requests beyond a source’s burst and rate without a response, other sources unaffected', () => {
    const time = clock();
    const security = new SipSecurity({ requestBurst: 5, requestsPerSecond: 2, now: time.now });
    const flooder = new FakeConnection('198.51.100.7');
    const verdicts = Array.from({ length: 7 }, () => security.guard(serverTransaction(options(), flooder)));
    expect(verdicts).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'rate-limited', 'rate-limited']);
    expect(flooder.sent).toEqual([]);
    expect(security.guard(serverTransaction(options(), new FakeConnection('198.51.100.8')))).toBe('pass');
    time.advance(500);
    expect(security.guard(serverTransaction(options(), flooder))).toBe('pass');
    expect(security.guard(serverTransaction(options(), flooder))).toBe('rate-limited');
  });

  it('drops requests from scanners silently, whatever the case of their User-Agent', () => {
    const security = new SipSecurity();
    const connection = new FakeConnection();
    for (const agent of ['friendly-scanner', 'sipvicious 0.3.4', 'SIPCLI/v1.8', 'sip-scan', 'VaxSIPUserAgent/3.1', 'Friendly-Scanner']) {
      const tx = serverTransaction(options(agent), connection);
      expect(security.guard(tx)).toBe('scanner');
      expect(tx.state).toBe('terminated');
    }
    expect(connection.sent).toEqual([]);
    expect(security.guard(serverTransaction(options('Yealink SIP-T46S 66.86.0.15'), connection))).toBe('pass');
    expect(security.guard(serverTransaction(options('JsSIP 3.10.1'), connection))).toBe('pass');
    // Not banned for it: the next honest request from the address goes through.
    expect(security.guard(serverTransaction(options(), connection))).toBe('pass');
  });

  it('bans a pair (address, account) after 10 failures within a minute, leaving the address and its other accounts alone', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now });
    const office = new FakeConnection('203.0.113.5');
    const stale = 'demo.offhook.test 101';
    for (let i = 0; i < 9; i++) {
      security.recordAuthFailure(office.remoteAddress, stale);
      time.advance(1_000);
    }
    expect(security.attempts.isPairBanned(office.remoteAddress, stale)).toBe(false);
    security.recordAuthFailure(office.remoteAddress, stale);
    expect(security.attempts.isPairBanned(office.remoteAddress, stale)).toBe(true);
    // The stale phone's credentials are refused unchecked; its neighbours' accounts and requests are not.
    expect(security.admit(office, stale)).toMatchObject({ admitted: false, reason: 'pair' });
    expect(security.attempts.isPairBanned('203.0.113.6', stale)).toBe(false);
    const neighbour = security.admit(office, 'demo.offhook.test 102');
    expect(neighbour).toMatchObject({ admitted: true });
    expect(security.isBanned(office.remoteAddress)).toBe(false);
    expect(security.guard(serverTransaction(options(), office))).toBe('pass');
    time.advance(10 * 60_000);
    expect(security.attempts.isPairBanned(office.remoteAddress, stale)).toBe(false);
  });

  it('bans an address as a whole for failures across 5 accounts within a minute (a spray), for 10 minutes', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now });
    const source = '203.0.113.5';
    for (const extension of ['101', '102', '103', '9999']) security.recordAuthFailure(source, `demo.offhook.test ${extension}`);
    expect(security.isBanned(source)).toBe(false);
    // Unknown extensions count like real ones: that is how a hunt for extensions shows.
    security.recordAuthFailure(source, 'demo.offhook.test 8888');
    expect(security.isBanned(source)).toBe(true);
    const tx = serverTransaction(options(), new FakeConnection(source));
    expect(security.guard(tx)).toBe('banned');
    expect(tx.state).toBe('terminated');
    expect(security.isBanned('203.0.113.6')).toBe(false);
    time.advance(10 * 60_000 - 1);
    expect(security.isBanned(source)).toBe(true);
    time.advance(1);
    expect(security.isBanned(source)).toBe(false);
    expect(security.guard(serverTransaction(options(), new FakeConnection(source)))).toBe('pass');
  });

  it('lets a banned address’s registered flows, dialogs and responses through the guard', () => {
    const security = new SipSecurity({}, { knowsDialog: (request) => request.headers.get('Call-ID') === 'in-call' });
    security.ban('203.0.113.5');
    const registered = new FakeConnection('203.0.113.5');
    registered.once('closed', () => undefined);
    expect(security.guard(serverTransaction(options(), registered))).toBe('pass');
    const other = new FakeConnection('203.0.113.5');
    expect(security.guard(serverTransaction(options(), other))).toBe('banned');
    const bye = (callId: string) => sipRequest({ method: 'BYE', uri: 'sip:101@demo.offhook.test', from: '<sip:102@demo.offhook.test>;tag=a', to: '<sip:101@demo.offhook.test>;tag=b', callId });
    expect(security.guard(serverTransaction(bye('in-call'), other))).toBe('pass');
    expect(security.guard(serverTransaction(bye('unknown-call'), other))).toBe('banned');
  });

  it('lets a known device of an account through a ban of its address on a new flow, for that account alone', () => {
    const security = new SipSecurity();
    const office = '203.0.113.5';
    const account = 'demo.offhook.test 101';
    // Alice's phone registered from the office before a sprayer behind the same NAT got the address banned.
    const before = new FakeConnection(office);
    const first = security.admit(before, account);
    if (!first.admitted) throw new Error('admitted at first');
    security.settle(before, first.ticket, 'succeeded');
    security.ban(office);
    const register = (user: string) =>
      sipRequest({ method: 'REGISTER', uri: 'sip:demo.offhook.test', from: `<sip:${user}@demo.offhook.test>;tag=r`, to: `<sip:${user}@demo.offhook.test>` });
    // Rebooted, it comes back from a new port: a new flow that nothing holds.
    const rebooted = new FakeConnection(office);
    expect(security.passesBan(register('101'), rebooted)).toBe(true);
    expect(security.guard(serverTransaction(register('101'), rebooted))).toBe('pass');
    expect(security.passesBan(register('102'), rebooted)).toBe(false);
    expect(security.guard(serverTransaction(register('102'), new FakeConnection(office)))).toBe('banned');
    expect(security.passesBan(register('101'), new FakeConnection('198.51.100.9'))).toBe(false);
  });

  it('never holds a device on the flow where it proved its account, though its failures count', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now, authFailuresBeforeBan: 3 });
    const account = 'demo.offhook.test 101';
    const phone = new FakeConnection('203.0.113.5');
    const first = security.admit(phone, account);
    if (!first.admitted) throw new Error('admitted at first');
    security.settle(phone, first.ticket, 'succeeded');
    for (let i = 0; i < 3; i++) security.recordAuthFailure('203.0.113.5', account);
    expect(security.attempts.isPairBanned('203.0.113.5', account)).toBe(true);
    // The registered phone's own flow is not held; another flow of the address (another phone) is.
    expect(security.admit(phone, account)).toMatchObject({ admitted: true });
    expect(security.admit(new FakeConnection('203.0.113.5'), account)).toMatchObject({ admitted: false, reason: 'pair' });
  });

  it('forgives failures spread out over time', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now });
    for (let i = 0; i < 60; i++) {
      security.recordAuthFailure('203.0.113.5', `demo.offhook.test ${100 + (i % 4)}`);
      time.advance(7_000);
    }
    expect(security.isBanned('203.0.113.5')).toBe(false);
    expect(security.attempts.isPairBanned('203.0.113.5', 'demo.offhook.test 100')).toBe(false);
  });

  it('takes its thresholds from its options and never limits a trusted source', () => {
    const time = clock();
    const security = new SipSecurity({ sprayAccountsBeforeBan: 2, banMs: 1_000, requestBurst: 1, trustedSources: ['127.0.0.1'], now: time.now });
    security.recordAuthFailure('203.0.113.5', 'demo.offhook.test 101');
    security.recordAuthFailure('203.0.113.5', 'demo.offhook.test 102');
    expect(security.isBanned('203.0.113.5')).toBe(true);
    security.unban('203.0.113.5');
    expect(security.isBanned('203.0.113.5')).toBe(false);
    for (let i = 0; i < 20; i++) security.recordAuthFailure('127.0.0.1', `demo.offhook.test ${100 + i}`);
    expect(security.isBanned('127.0.0.1')).toBe(false);
    expect(security.admit(new FakeConnection('127.0.0.1'), 'demo.offhook.test 100')).toMatchObject({ admitted: true });
    const trusted = new FakeConnection('127.0.0.1');
    expect([security.guard(serverTransaction(options(), trusted)), security.guard(serverTransaction(options(), trusted))]).toEqual(['pass', 'pass']);
    expect(() => new SipSecurity({ banMs: 0 })).toThrow(/banMs must be positive/);
  });

  it('keeps its memory bounded under a flood from many addresses', () => {
    const security = new SipSecurity({ maxTrackedSources: 100 });
    for (let i = 0; i < 5_000; i++) security.judge(`10.0.${i >> 8}.${i & 255}`, undefined);
    expect(security.trackedSources).toBe(100);
  });
});
