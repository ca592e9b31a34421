import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallEvent } from '../../../shared/events';
import { signedInPhone } from '../../testing/fake-pbx';
import { useEventsStore } from '../events';
import { useRemoteHoldStore } from './remote-hold-store';

describe('a call the other party holds', () => {
  let setup: ReturnType<typeof signedInPhone>;
  let send: (event: Omit<CallEvent, 'type' | 'callId' | 'parties'>) => void;

  beforeEach(() => {
    vi.useFakeTimers();
    setup = signedInPhone();
    // The event stream, driven at its socket: what the PBX would send.
    const sockets: Array<{ onmessage: ((event: { data: unknown }) => void) | null; onopen: ((event: unknown) => void) | null }> = [];
    useEventsStore().start(
      { serverUrl: 'http://pbx.test', token: 'token', userId: 1 },
      {
        socket: () => {
          const socket = { onopen: null, onmessage: null, onclose: null, onerror: null, close: () => undefined };
          sockets.push(socket);
          return socket;
        },
      },
    );
    sockets[0]?.onopen?.({});
    let seq = 0;
    send = (event) =>
      sockets[0]?.onmessage?.({
        data: JSON.stringify({
          kind: 'event',
          seq: ++seq,
          at: '2026-12-07T16:00:00.000Z',
          event: {
            type: 'call',
            callId: 'pbx-1',
            parties: [
              { extension: '101', name: 'Alice', role: 'callee' },
              { extension: '102', name: 'Bob', role: 'caller' },
            ],
            ...event,
          },
        }),
      });
  });

  afterEach(() => {
    useEventsStore().stop();
    setup.stop();
    vi.useRealTimers();
  });

  function activeCall(): { id: string; sipCallId: string } {
    const id = setup.engine.ring({ name: 'Bob', number: '102' });
    setup.engine.move(id, 'connecting');
    setup.engine.move(id, 'active');
    return { id, sipCallId: setup.phone.calls[id]?.sipCallId ?? '' };
  }

  it('says who holds the call while the PBX says it is held by them, and no longer once it is answered again', () => {
    const holds = useRemoteHoldStore();
    const { id, sipCallId } = activeCall();
    expect(holds.heldBy(id)).toBeUndefined();
    send({ state: 'held', leg: { id: sipCallId, sipCallId }, heldBy: { extension: '102', name: 'Bob' } });
    expect(holds.heldBy(id)).toBe('Bob');
    send({ state: 'answered', leg: { id: sipCallId, sipCallId } });
    expect(holds.heldBy(id)).toBeUndefined();
  });

  it('does not count a hold of the user’s own, another call’s leg, or a holder without a name as nameless', () => {
    const holds = useRemoteHoldStore();
    const { id, sipCallId } = activeCall();
    send({ state: 'held', leg: { id: sipCallId, sipCallId }, heldBy: { extension: '101', name: 'Alice' } });
    expect(holds.heldBy(id)).toBeUndefined();
    send({ state: 'held', leg: { id: 'other', sipCallId: 'other' }, heldBy: { extension: '102', name: 'Bob' } });
    expect(holds.heldBy(id)).toBeUndefined();
    send({ state: 'held', leg: { id: sipCallId, sipCallId }, heldBy: { extension: '102', name: ' ' } });
    expect(holds.heldBy(id)).toBe('102');
    send({ state: 'ended', leg: { id: sipCallId, sipCallId } });
    expect(holds.heldBy(id)).toBeUndefined();
  });
});
