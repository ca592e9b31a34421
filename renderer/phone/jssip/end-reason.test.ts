import { describe, expect, it } from 'vitest';
import { endDetailFor, endReasonFor, isCompletedElsewhere, messageFacts } from './end-reason';
import type { EndFacts } from './end-reason';

// The strings JsSIP reports as `cause` (its C.causes), written out so that a change in JsSIP shows up here.
const BYE = 'Terminated';

describe('endReasonFor', () => {
  const cases: Array<[string, EndFacts, string]> = [
    ['we hang up an answered call', { event: 'ended', originator: 'local', cause: BYE, direction: 'outgoing' }, 'hung-up-local'],
    ['they hang up an answered call', { event: 'ended', originator: 'remote', cause: BYE, direction: 'incoming' }, 'hung-up-remote'],
    ['media stops flowing', { event: 'ended', originator: 'local', cause: 'RTP Timeout', direction: 'outgoing' }, 'failed'],
    ['the connection drops mid-call', { event: 'ended', originator: 'system', cause: 'Connection Error', direction: 'incoming' }, 'failed'],
    ['we cancel our call', { event: 'failed', originator: 'local', cause: 'Canceled', direction: 'outgoing' }, 'cancelled'],
    ['the caller gives up', { event: 'failed', originator: 'remote', cause: 'Canceled', direction: 'incoming' }, 'missed'],
    ['nobody answers our call', { event: 'failed', originator: 'remote', cause: 'No Answer', direction: 'outgoing' }, 'unavailable'],
    ['we let it ring out', { event: 'failed', originator: 'local', cause: 'No Answer', direction: 'incoming' }, 'missed'],
    ['we decline', { event: 'failed', originator: 'local', cause: 'Rejected', direction: 'incoming' }, 'declined'],
    ['they decline (603)', { event: 'failed', originator: 'remote', cause: 'Rejected', direction: 'outgoing', status: 603 }, 'declined'],
    [
      'the PBX forbids the call (403)',
      { event: 'failed', originator: 'remote', cause: 'Rejected', direction: 'outgoing', status: 403, reasonPhrase: 'Forbidden - Outside calls are not allowed for this extension' },
      'refused',
    ],
    ['they are busy everywhere (600)', { event: 'failed', originator: 'remote', cause: 'Busy', direction: 'outgoing', status: 600 }, 'busy'],
    [
      'the PBX cancels because another device of ours answered',
      { event: 'failed', originator: 'remote', cause: 'Canceled', direction: 'incoming', reasonHeader: 'SIP;cause=200;text="Call completed elsewhere"' },
      'answered-elsewhere',
    ],
    [
      'the caller gives up, with a Reason that is not an answer elsewhere',
      { event: 'failed', originator: 'remote', cause: 'Canceled', direction: 'incoming', reasonHeader: 'SIP;cause=487;text="Request Terminated"' },
      'missed',
    ],
    ['they are busy (486/600)', { event: 'failed', originator: 'remote', cause: 'Busy', direction: 'outgoing' }, 'busy'],
    ['they are unavailable (480)', { event: 'failed', originator: 'remote', cause: 'Unavailable', direction: 'outgoing' }, 'unavailable'],
    ['the number does not exist (404)', { event: 'failed', originator: 'remote', cause: 'Not Found', direction: 'outgoing' }, 'not-found'],
    ['the number is incomplete (484)', { event: 'failed', originator: 'remote', cause: 'Address Incomplete', direction: 'outgoing' }, 'not-found'],
    ['the microphone is refused', { event: 'failed', originator: 'local', cause: 'User Denied Media Access', direction: 'incoming' }, 'failed'],
    ['the PBX cannot be reached', { event: 'failed', originator: 'system', cause: 'Request Timeout', direction: 'outgoing' }, 'failed'],
    ['the PBX answers with another error', { event: 'failed', originator: 'remote', cause: 'SIP Failure Code', direction: 'outgoing' }, 'failed'],
  ];

  it.each(cases)('when %s', (_story, facts, reason) => {
    expect(endReasonFor(facts)).toBe(reason);
  });
});

describe('isCompletedElsewhere (RFC 3326 Reason on a CANCEL)', () => {
  it.each([
    ['SIP;cause=200;text="Call completed elsewhere"', true],
    ['SIP ; cause = 200 ; text="Call completed elsewhere"', true],
    ['Q.850;cause=16;text="Normal call clearing", sip;cause=200', true],
    ['Q.850;cause=200', false],
    ['SIP;cause=2000', false],
    ['SIP;text="cause=200, answered";cause=487', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (header, expected) => {
    expect(isCompletedElsewhere(header)).toBe(expected);
  });
});

describe('endDetailFor', () => {
  const refused = { event: 'failed', originator: 'remote', cause: 'Rejected', direction: 'outgoing', status: 403 } as const;

  it('takes the words our PBX writes after the status phrase', () => {
    expect(endDetailFor({ ...refused, reasonPhrase: 'Forbidden - Outside calls are not allowed for this extension' })).toBe(
      'Outside calls are not allowed for this extension',
    );
  });

  it('says nothing more for a bare standard phrase, or for an end that was no refusal', () => {
    expect(endDetailFor({ ...refused, reasonPhrase: 'Forbidden' })).toBeUndefined();
    expect(endDetailFor({ ...refused, originator: 'local', reasonPhrase: 'Forbidden - mine' })).toBeUndefined();
    expect(endDetailFor({ event: 'ended', originator: 'remote', cause: 'Terminated', direction: 'outgoing' })).toBeUndefined();
  });

  it('shows words only from a 403, the PBX\'s refusals: any other status may carry a device\'s own words', () => {
    for (const status of [404, 480, 486, 488, 500, 503, 603]) {
      expect(endDetailFor({ ...refused, cause: 'Busy', status, reasonPhrase: 'Busy Here - Call +1 900 555 0100 now' })).toBeUndefined();
    }
  });

  it('keeps bidi formatting characters off the screen, so the words read in the order they are written', () => {
    const detail = endDetailFor({ ...refused, reasonPhrase: 'Forbidden - Not allowed \u202Egnp.exe\u202C \u2066x\u2069 \u200F\u0085' });
    expect(detail).toBe('Not allowed  gnp.exe   x');
  });

  it('keeps control characters and overlong text off the screen', () => {
    const detail = endDetailFor({ ...refused, reasonPhrase: `Forbidden - bad\u0007 ${'x'.repeat(400)}` });
    expect([...(detail ?? '')].some((char) => char.charCodeAt(0) < 0x20)).toBe(false);
    expect(detail?.length).toBeLessThanOrEqual(160);
  });
});

describe('messageFacts', () => {
  it('reads a final response', () => {
    expect(messageFacts({ status_code: 403, reason_phrase: 'Forbidden - No' })).toEqual({ status: 403, reasonPhrase: 'Forbidden - No' });
  });

  it('reads the Reason header of a CANCEL only', () => {
    const header = (name: string) => (name === 'Reason' ? 'SIP;cause=200' : undefined);
    expect(messageFacts({ method: 'CANCEL', getHeader: header })).toEqual({ reasonHeader: 'SIP;cause=200' });
    expect(messageFacts({ method: 'BYE', getHeader: header })).toEqual({});
  });

  it('copes with no message at all', () => {
    expect(messageFacts(null)).toEqual({});
    expect(messageFacts(undefined)).toEqual({});
  });
});
