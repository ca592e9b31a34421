import { describe, expect, it } from 'vitest';
import { reasonPhrase } from '../sip/syntax/reason-phrases';
import { betterFailure, CALLEE_UNREACHABLE, forCaller } from './fork-response';

describe('what a caller hears when the devices refuse', () => {
  it('turns a device\'s challenge, redirect or complaint about our request into 480', () => {
    for (const status of [401, 407, 302, 400, 420, 481, 491]) expect(forCaller({ status, reason: 'x' })).toEqual(CALLEE_UNREACHABLE);
  });

  it('passes on what the callee meant: busy, declined, not found, unavailable', () => {
    for (const status of [486, 603, 404, 480, 408, 500, 503, 600]) expect(forCaller({ status, reason: reasonPhrase(status) })).toEqual({ status, reason: reasonPhrase(status) });
  });

  it('gives the caller the standard reason phrase, never the words a device put in its own', () => {
    expect(forCaller({ status: 403, reason: 'Forbidden - Your account is suspended, call +1 900 555 0100' })).toEqual({ status: 403, reason: 'Forbidden' });
    expect(forCaller({ status: 603, reason: 'Decline - \u202Eevil' })).toEqual({ status: 603, reason: 'Decline' });
    expect(forCaller({ status: 486, reason: 'Occupied' })).toEqual({ status: 486, reason: 'Busy Here' });
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
