import { describe, expect, it } from 'vitest';
import { endReasonFor } from './end-reason';
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
    ['they decline (403/603)', { event: 'failed', originator: 'remote', cause: 'Rejected', direction: 'outgoing' }, 'declined'],
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
