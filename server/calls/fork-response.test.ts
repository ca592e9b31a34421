import { describe, expect, it } from 'vitest';
import { betterFailure, CALLEE_UNREACHABLE, forCaller } from './fork-response';

describe('what a caller hears when the devices refuse', () => {
  it('turns a device\'s challenge, redirect or complaint about our request into 480', () => {
    for (const status of [401, 407, 302, 400, 420, 481, 491]) expect(forCaller({ status, reason: 'x' })).toEqual(CALLEE_UNREACHABLE);
  });

  it('passes on what the callee meant: busy, declined, not found, unavailable', () => {
    for (const status of [486, 603, 404, 480, 408, 500, 503, 600]) expect(forCaller({ status, reason: 'r' })).toEqual({ status, reason: 'r' });
  });

  it('picks the best of several per RFC 3261 §16.7: 6xx first, then the lowest class, a busy device within a class', () => {
    const r = (status: number) => ({ status, reason: `${status}` });
    expect(betterFailure(undefined, r(500))).toEqual(r(500));
    expect(betterFailure(r(500), r(480))).toEqual(r(480));
    expect(betterFailure(r(480), r(503))).toEqual(r(480));
    expect(betterFailure(r(480), r(603))).toEqual(r(603));
    expect(betterFailure(r(603), r(486))).toEqual(r(603));
    expect(betterFailure(r(480), r(486))).toEqual(r(486));
    expect(betterFailure(r(486), r(480))).toEqual(r(486));
  });
});
