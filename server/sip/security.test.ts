import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setCanCallExternal } from '../store/dial-permissions';
import { ensureOrganization } from '../store/organizations';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { createUser } from '../store/users';
import type { AuthenticatedUser } from './authenticator';
import { LruMap, OrganizationDialPolicy, SipSecurity, TokenBucket } from './security';
import { FakeConnection, serverTransaction, sipRequest } from './test-support';

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

  it('bans a source after 10 failed authentications within a minute, for 10 minutes', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now });
    const source = '203.0.113.5';
    for (let i = 0; i < 9; i++) {
      security.recordAuthFailure(source);
      time.advance(1_000);
    }
    expect(security.isBanned(source)).toBe(false);
    security.recordAuthFailure(source);
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

  it('forgives failures spread out over time', () => {
    const time = clock();
    const security = new SipSecurity({ now: time.now });
    for (let i = 0; i < 60; i++) {
      security.recordAuthFailure('203.0.113.5');
      time.advance(7_000);
    }
    expect(security.isBanned('203.0.113.5')).toBe(false);
  });

  it('takes its thresholds from its options and never limits a trusted source', () => {
    const time = clock();
    const security = new SipSecurity({ authFailuresBeforeBan: 2, banMs: 1_000, requestBurst: 1, trustedSources: ['127.0.0.1'], now: time.now });
    security.recordAuthFailure('203.0.113.5');
    security.recordAuthFailure('203.0.113.5');
    expect(security.isBanned('203.0.113.5')).toBe(true);
    security.unban('203.0.113.5');
    expect(security.isBanned('203.0.113.5')).toBe(false);
    for (let i = 0; i < 20; i++) security.recordAuthFailure('127.0.0.1');
    expect(security.isBanned('127.0.0.1')).toBe(false);
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

describe('OrganizationDialPolicy', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: AuthenticatedUser;
  let bobId: number;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    const user = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    bobId = (await createUser(db, { organizationId: organization.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' })).id;
    await createUser(db, { organizationId: other.id, extension: '201', displayName: 'Olga Other', password: 'olga-201' });
    alice = { userId: user.id, organizationId: organization.id, extension: '101', displayName: 'Alice Adams', domain: organization.domain };
  });
  afterEach(async () => {
    await store.close();
  });

  it('allows extensions of the organization and feature codes', async () => {
    const policy = new OrganizationDialPolicy(db);
    expect(await policy.check(alice, '102')).toBe('allow');
    expect(await policy.check(alice, '*97')).toBe('allow');
  });

  it('refuses outside numbers, including extensions of other organizations, unless the user may call out', async () => {
    const policy = new OrganizationDialPolicy(db);
    const refused = { deny: 403, reason: 'Forbidden - Outside calls are not allowed for this extension' };
    expect(await policy.check(alice, '+15551234567')).toEqual(refused);
    expect(await policy.check(alice, '201')).toEqual(refused);
    expect(await policy.check(alice, '')).toEqual({ deny: 484, reason: 'Address Incomplete' });
    await setCanCallExternal(db, bobId, true);
    expect(await policy.check(alice, '+15551234567')).toEqual(refused);
    await setCanCallExternal(db, alice.userId, true);
    expect(await policy.check(alice, '+15551234567')).toBe('allow');
  });
});
