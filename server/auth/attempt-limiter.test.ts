import { describe, expect, it } from 'vitest';
import { accountKey, AttemptLimiter } from './attempt-limiter';
import type { Admission, AttemptLimitOptions } from './attempt-limiter';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const ALICE = accountKey('Demo.Offhook.Test', '101');

function limiter(options: Partial<AttemptLimitOptions> = {}) {
  const time = clock();
  const attempts = new AttemptLimiter({ now: time.now, ...options });
  /** One attempt from `source` that fails (if admitted); returns what admit said. */
  const fail = (source: string, account = ALICE): Admission => {
    const admission = attempts.admit({ source, account });
    if (admission.admitted) attempts.failed(admission.ticket);
    return admission;
  };
  const succeed = (source: string, account = ALICE): Admission => {
    const admission = attempts.admit({ source, account });
    if (admission.admitted) attempts.succeeded(admission.ticket);
    return admission;
  };
  return { attempts, time, fail, succeed };
}

describe('AttemptLimiter', () => {
  it('keys an account by its domain, as normalised, and extension, the same at every door', () => {
    expect(accountKey(' DEMO.offhook.test', '101')).toBe('demo.offhook.test 101');
  });

  it('holds guessing of one account from many addresses with delays that double up to a cap', () => {
    const { time, fail } = limiter({ accountDelayMaxMs: 8_000 });
    // Five free failures, from five addresses.
    for (let i = 1; i <= 5; i++) expect(fail(`198.51.100.${i}`)).toMatchObject({ admitted: true });
    // The fifth started a 1 s wait: a sixth address is refused unchecked, whoever it is.
    expect(fail('198.51.100.6')).toEqual({ admitted: false, reason: 'account', retryAfterMs: 1_000 });
    const waits: number[] = [];
    for (let n = 0; n < 6; n++) {
      const refused = fail(`198.51.100.${10 + n}`);
      if (refused.admitted) throw new Error('refused inside the wait');
      waits.push(refused.retryAfterMs);
      time.advance(refused.retryAfterMs);
      expect(fail(`198.51.100.${20 + n}`)).toMatchObject({ admitted: true });
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('checks no more attempts at once than the account has free failures left, then one at a time', () => {
    const { attempts, fail } = limiter();
    const admitted = Array.from({ length: 5 }, (_, i) => attempts.admit({ source: `198.51.100.${i}`, account: ALICE }));
    expect(admitted.every((a) => a.admitted)).toBe(true);
    // A thousand guesses sent at once are not all checked before the first has failed.
    expect(attempts.admit({ source: '198.51.100.99', account: ALICE })).toMatchObject({ admitted: false, reason: 'account' });
    for (const a of admitted) if (a.admitted) attempts.abandoned(a.ticket);
    // Abandoned checks counted for nothing: five free failures are still there.
    for (let i = 0; i < 5; i++) expect(fail(`198.51.100.${i}`)).toMatchObject({ admitted: true });
    expect(fail('198.51.100.7')).toMatchObject({ admitted: false });
  });

  it('does not hold a known device by the delay others caused, nor by its address’s ban; a pair ban still holds', () => {
    const { attempts, time, fail, succeed } = limiter({ knownDeviceMs: 60_000, authFailuresBeforeBan: 3 });
    expect(succeed('192.0.2.10')).toMatchObject({ admitted: true });
    for (let i = 1; i <= 6; i++) fail(`198.51.100.${i}`);
    expect(fail('198.51.100.50')).toMatchObject({ admitted: false, reason: 'account' });
    expect(attempts.isKnownDevice('192.0.2.10', ALICE)).toBe(true);
    expect(succeed('192.0.2.10')).toMatchObject({ admitted: true });
    // Its address banned as a whole (a neighbour spraying): it may still check its own account, and no other.
    attempts.ban('192.0.2.10');
    expect(succeed('192.0.2.10')).toMatchObject({ admitted: true });
    expect(fail('192.0.2.10', accountKey('demo.offhook.test', '102'))).toMatchObject({ admitted: false, reason: 'address' });
    attempts.unban('192.0.2.10');
    // Guessing from the known address is still limited per pair: behind a NAT the guesser may be a neighbour.
    for (let i = 0; i < 3; i++) fail('192.0.2.10');
    expect(fail('192.0.2.10')).toMatchObject({ admitted: false, reason: 'pair' });
    // Known only for a while.
    time.advance(60_001);
    expect(attempts.isKnownDevice('192.0.2.10', ALICE)).toBe(false);
  });

  it('never refuses an attempt its caller vouches for, and still counts its failures', () => {
    const { attempts, fail } = limiter({ authFailuresBeforeBan: 2 });
    fail('192.0.2.10');
    fail('192.0.2.10');
    expect(attempts.isPairBanned('192.0.2.10', ALICE)).toBe(true);
    const proven = attempts.admit({ source: '192.0.2.10', account: ALICE, proven: true });
    expect(proven).toMatchObject({ admitted: true });
    if (proven.admitted) attempts.failed(proven.ticket);
    // Settling twice counts once.
    if (proven.admitted) attempts.failed(proven.ticket);
    for (let i = 1; i <= 2; i++) fail(`198.51.100.${i}`);
    // 2 + 1 + 2 = 5 failures: the account now waits.
    expect(fail('198.51.100.3')).toMatchObject({ admitted: false, reason: 'account' });
  });

  it('forgets an account’s failures after an hour without one', () => {
    const { time, fail } = limiter();
    for (let i = 1; i <= 7; i++) {
      fail(`198.51.100.${i}`);
      time.advance(60_000);
    }
    time.advance(60 * 60_000);
    for (let i = 1; i <= 5; i++) expect(fail(`198.51.100.${i}`)).toMatchObject({ admitted: true });
  });

  it('bans an address spraying accounts, existing or not, and never limits or counts a trusted one', () => {
    const { attempts, fail } = limiter({ trustedSources: ['10.0.0.1'] });
    for (let i = 0; i < 4; i++) fail('198.51.100.9', accountKey('demo.offhook.test', `90${i}`));
    expect(attempts.isSourceBanned('198.51.100.9')).toBe(false);
    fail('198.51.100.9', accountKey('other.test', '101'));
    expect(attempts.isSourceBanned('198.51.100.9')).toBe(true);
    for (let i = 0; i < 50; i++) expect(fail('10.0.0.1', accountKey('demo.offhook.test', `${100 + i}`))).toMatchObject({ admitted: true });
    expect(attempts.isSourceBanned('10.0.0.1')).toBe(false);
    // The trusted source's failures were not counted against the accounts either.
    expect(fail('198.51.100.1', accountKey('demo.offhook.test', '100'))).toMatchObject({ admitted: true });
  });

  it('refuses options that make no sense', () => {
    expect(() => new AttemptLimiter({ banMs: 0 })).toThrow(/banMs must be positive/);
    expect(() => new AttemptLimiter({ accountFreeFailures: 0 })).toThrow(/accountFreeFailures/);
  });
});
