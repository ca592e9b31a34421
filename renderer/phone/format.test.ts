import { describe, expect, it } from 'vitest';
import { END_REASONS } from './call-state';
import { END_REASON_LABELS, cardLabel, endOutcome, formatDuration, partyDetail, partyTitle } from './format';

describe('formatDuration', () => {
  it.each([
    [0, '00:00'],
    [999, '00:00'],
    [1_000, '00:01'],
    [59_999, '00:59'],
    [60_000, '01:00'],
    [61_500, '01:01'],
    [3_599_000, '59:59'],
    [3_600_000, '1:00:00'],
    [36_061_000, '10:01:01'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('shows a clock that runs slightly behind as zero rather than negative', () => {
    expect(formatDuration(-250)).toBe('00:00');
  });
});

describe('the other party', () => {
  it('leads with the name and adds the number', () => {
    const remote = { name: 'Ada Lovelace', number: '101' };
    expect(partyTitle(remote)).toBe('Ada Lovelace');
    expect(partyDetail(remote)).toBe('101');
  });

  it('shows only the number when there is no name', () => {
    const remote = { name: '  ', number: '+15550100199' };
    expect(partyTitle(remote)).toBe('+15550100199');
    expect(partyDetail(remote)).toBeUndefined();
  });

  it('does not repeat a name that is the number', () => {
    expect(partyDetail({ name: '102', number: '102' })).toBeUndefined();
  });

  it('says so when neither is known', () => {
    expect(partyTitle({ name: '', number: '' })).toBe('Unknown caller');
  });
});

describe('end reason labels', () => {
  it('has a short sentence for every reason', () => {
    for (const reason of END_REASONS) expect(END_REASON_LABELS[reason]).toMatch(/^[A-Z][a-z]+( [a-z]+)*$/);
  });
});

describe('cardLabel', () => {
  it.each([
    [{ state: 'ringing-in', direction: 'incoming' }, 'Incoming call'],
    [{ state: 'dialing', direction: 'outgoing' }, 'Outgoing call'],
    [{ state: 'ringing-out', direction: 'outgoing' }, 'Outgoing call'],
    [{ state: 'connecting', direction: 'incoming' }, 'Connecting call'],
    [{ state: 'connecting', direction: 'outgoing' }, 'Connecting call'],
    [{ state: 'active', direction: 'incoming' }, 'Active call'],
    [{ state: 'active', direction: 'outgoing' }, 'Active call'],
    [{ state: 'holding', direction: 'outgoing' }, 'Active call'],
    [{ state: 'held', direction: 'incoming' }, 'Held call'],
    [{ state: 'resuming', direction: 'incoming' }, 'Held call'],
    [{ state: 'ended', direction: 'outgoing' }, 'Ended call'],
  ] as const)('names a card for %o "%s"', (call, label) => {
    expect(cardLabel(call)).toBe(label);
  });
});

describe('endOutcome', () => {
  it("says the PBX's own sentence for a refused call, not that a person declined", () => {
    expect(endOutcome({ endReason: 'refused', endDetail: 'Outside calls are not allowed for this extension' })).toBe(
      'Outside calls are not allowed for this extension.',
    );
    expect(endOutcome({ endReason: 'refused' })).toBe('Call not allowed');
  });

  it('keeps declined and busy for a person turning the call down', () => {
    expect(endOutcome({ endReason: 'declined' })).toBe('Call declined');
    expect(endOutcome({ endReason: 'busy' })).toBe('Line busy');
  });

  it('says a call taken on another device was answered there, not missed', () => {
    expect(endOutcome({ endReason: 'answered-elsewhere' })).toBe('Answered on another device');
  });

  it('says nothing for a call that has not ended', () => {
    expect(endOutcome({})).toBe('');
  });
});
