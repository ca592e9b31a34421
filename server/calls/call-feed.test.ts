import { describe, expect, it } from 'vitest';
import { CallEvent } from '../../shared/events';
import { callEventFor } from './call-feed';
import type { CallStateChangedEvent } from './call';

const bobsLine: CallStateChangedEvent = {
  callId: 'call-1',
  organizationId: 1,
  extension: '102',
  displayName: 'Bob',
  direction: 'recipient',
  state: 'confirmed',
  remote: { extension: '101', displayName: 'Alice' },
  dialog: { callId: 'sip-call-id', localTag: 'b', remoteTag: 'a' },
};

describe('call events for the app', () => {
  it('reports a call the other party holds as held, by them', () => {
    const event = callEventFor({ ...bobsLine, heldBy: { extension: '101', displayName: 'Alice' } });
    expect(event).toMatchObject({ state: 'held', heldBy: { extension: '101', name: 'Alice' } });
    expect(CallEvent.parse(event)).toEqual(event);
  });

  it('reports the call answered again once nobody holds it, with no heldBy', () => {
    const event = callEventFor(bobsLine);
    expect(event.state).toBe('answered');
    expect(event).not.toHaveProperty('heldBy');
  });

  it('never reports a line that ended as held', () => {
    expect(callEventFor({ ...bobsLine, state: 'terminated', heldBy: { extension: '101', displayName: 'Alice' } }).state).toBe('ended');
  });
});
