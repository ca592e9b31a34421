import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakePhoneEngine } from '../../testing/fake-engine';
import type { fakePbx} from '../../testing/fake-pbx';
import { refusal, signedInPhone } from '../../testing/fake-pbx';
import { useEventsStore } from '../events';
import type { usePhoneStore } from './phone-store';
import { BLIND_TRANSFER_WAIT_MS, useTransferStore } from './transfer-store';

describe('transfer store', () => {
  let engine: FakePhoneEngine;
  let phone: ReturnType<typeof usePhoneStore>;
  let transfers: ReturnType<typeof useTransferStore>;
  let pbx: ReturnType<typeof fakePbx>;

  let stopPhone: () => void;

  beforeEach(() => {
    vi.useFakeTimers();
    ({ pbx, phone, engine, stop: stopPhone } = signedInPhone());
    transfers = useTransferStore();
  });

  afterEach(() => {
    stopPhone();
    vi.useRealTimers();
  });

  /** An answered call from Bob (102), on the line. */
  function callFromBob(): string {
    const id = engine.ring({ name: 'Bob Brown', number: '102' });
    engine.move(id, 'connecting');
    engine.move(id, 'active');
    return id;
  }

  function panelFor(id: string, number: string): void {
    transfers.openPanel(id);
    transfers.setNumber(number);
  }

  /** Consults 103 from Bob's call, the hold settling as the PBX would; returns both ids. */
  function consulting(): { bob: string; consult: string } {
    const bob = callFromBob();
    panelFor(bob, '103');
    transfers.consult();
    const consult = phone.callList.find((call) => call.id !== bob)!.id;
    engine.settleReoffer(bob, true);
    return { bob, consult };
  }

  function answered(id: string): void {
    engine.move(id, 'ringing-out');
    engine.move(id, 'connecting');
    engine.move(id, 'active');
  }

  it('opens the panel on an answered call only, closing its dial pad, and closes it when the call ends', () => {
    const ringing = engine.ring({ name: '', number: '104' });
    transfers.openPanel(ringing);
    expect(transfers.panel).toBeUndefined();

    const bob = callFromBob();
    phone.openKeypad(bob);
    transfers.openPanel(bob);
    expect(transfers.panel).toEqual({ callId: bob, number: '', error: '' });
    expect(phone.keypadCallId).toBeUndefined();

    engine.end(bob, 'hung-up-remote');
    expect(transfers.panel).toBeUndefined();
  });

  it('Transfer now asks the PBX for a blind transfer of this call, by its SIP Call-ID, and the card ends as transferred', async () => {
    const bob = callFromBob();
    panelFor(bob, '103');
    await transfers.transferNow();

    expect(pbx.requests).toHaveLength(1);
    const [sent] = pbx.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe(`http://pbx.test/api/v1/calls/${encodeURIComponent(`sip-${bob}@fake.test`)}/transfer`);
    expect(pbx.headers[0]?.get('authorization')).toBe('Bearer token-1');
    expect(sent?.body).toEqual({ kind: 'blind', target: '103' });
    expect(transfers.panel).toBeUndefined();
    expect(transfers.forCall(bob)).toMatchObject({ kind: 'blind', phase: 'accepted', target: '103' });
    // The app neither hangs up nor holds: the PBX ends the session when the target answers.
    expect(engine.requests.filter((r) => r.includes(bob))).toEqual([]);

    engine.end(bob, 'hung-up-remote');
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.transferred[bob]).toBe(true);
  });

  it('a blind transfer the PBX refuses leaves the call as it was, with the PBX\'s sentence', async () => {
    const bob = callFromBob();
    pbx.answers.push(refusal(404, 'not_found', 'No one has that extension.'));
    panelFor(bob, '109');
    await transfers.transferNow();

    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. No one has that extension.");
    expect(phone.calls[bob]?.state).toBe('active');
    // A later end of the call is an ordinary end, not a transfer.
    engine.end(bob, 'hung-up-remote');
    expect(transfers.transferred[bob]).toBeUndefined();
  });

  it('a blind transfer that fails once under way says why as soon as the PBX tells the event stream', async () => {
    const bob = callFromBob();
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
    panelFor(bob, '103');
    await transfers.transferNow();
    expect(transfers.forCall(bob)?.phase).toBe('accepted');
    const sipCallId = phone.calls[bob]?.sipCallId ?? '';
    const told = (seq: number, reason?: string) =>
      sockets[0]?.onmessage?.({
        data: JSON.stringify({
          kind: 'event',
          seq,
          at: '2026-12-07T16:00:00.000Z',
          event: { type: 'call', callId: 'pbx-1', state: 'answered', parties: [], leg: { id: sipCallId, sipCallId }, ...(reason ? { reason } : {}) },
        }),
      });
    told(1);
    expect(transfers.forCall(bob)?.phase).toBe('accepted');
    told(2, '103 declined the call');
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. 103 declined the call.");
    useEventsStore().stop();
  });

  it('a blind transfer that never completes stops saying so, and says it did not go through', async () => {
    const bob = callFromBob();
    panelFor(bob, '103');
    await transfers.transferNow();
    vi.advanceTimersByTime(BLIND_TRANSFER_WAIT_MS - 1);
    expect(transfers.forCall(bob)?.phase).toBe('accepted');
    vi.advanceTimersByTime(1);
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. 103 did not answer.");
  });

  it('a number that cannot be dialled stays in the panel with the reason, and nothing is asked', async () => {
    const bob = callFromBob();
    panelFor(bob, 'bob');
    await transfers.transferNow();
    transfers.consult();
    expect(transfers.panel?.error).toBe('A number can hold only digits, *, # and a leading +.');
    expect(pbx.requests).toEqual([]);
    expect(engine.requests).toEqual([]);
    transfers.setNumber('1');
    expect(transfers.panel?.error).toBe('');
  });

  it('Consult holds the call and calls the target; Complete transfer joins them on the PBX', async () => {
    const bob = callFromBob();
    panelFor(bob, '103');
    transfers.consult();
    const consult = phone.callList.find((call) => call.id !== bob)!.id;
    expect(engine.requests).toEqual([`hold ${bob}`, 'call 103']);
    expect(transfers.forCall(bob)).toMatchObject({ kind: 'attended', phase: 'consulting', consultId: consult });
    expect(transfers.consultedFor(consult)).toBe(bob);
    engine.settleReoffer(bob, true);

    // Not before the consult call is answered.
    await transfers.complete(bob);
    expect(pbx.requests).toEqual([]);

    answered(consult);
    await transfers.complete(bob);
    expect(pbx.requests.map((r) => [r.url, r.body])).toEqual([
      [`http://pbx.test/api/v1/calls/${encodeURIComponent(`sip-${bob}@fake.test`)}/transfer`, { kind: 'attended', withSipCallId: `sip-${consult}@fake.test` }],
    ]);
    expect(transfers.forCall(bob)?.phase).toBe('completing');

    // The PBX ends both sessions; neither is resumed on the way.
    engine.end(consult, 'hung-up-remote');
    expect(transfers.forCall(bob)?.phase).toBe('completing');
    engine.end(bob, 'hung-up-remote');
    expect(transfers.transferred[bob]).toBe(true);
    expect(engine.requests).not.toContain(`resume ${bob}`);
  });

  it('a refused completion keeps both calls, back to consulting, with the reason', async () => {
    const { bob, consult } = consulting();
    answered(consult);
    pbx.answers.push(refusal(409, 'conflict', 'The call is already being transferred.'));
    await transfers.complete(bob);
    expect(transfers.forCall(bob)?.phase).toBe('consulting');
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. The call is already being transferred.");
    expect(phone.calls[consult]?.state).toBe('active');
  });

  it('a consult call that fails brings the held call back, saying why', () => {
    const { bob, consult } = consulting();
    engine.end(consult, 'busy');
    expect(engine.requests).toContain(`resume ${bob}`);
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. 103 is busy.");
  });

  it('a consult call that fails while the hold is still in flight resumes the call once the hold settles', () => {
    const bob = callFromBob();
    panelFor(bob, '103');
    transfers.consult();
    const consult = phone.callList.find((call) => call.id !== bob)!.id;
    engine.end(consult, 'not-found');
    expect(engine.requests).not.toContain(`resume ${bob}`);
    engine.settleReoffer(bob, true);
    expect(engine.requests).toContain(`resume ${bob}`);
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. No one has the number 103.");
  });

  it('Cancel transfer hangs up the consult call and resumes the held one, without a complaint', () => {
    const { bob, consult } = consulting();
    answered(consult);
    transfers.cancel(bob);
    expect(engine.requests).toContain(`hang up ${consult}`);
    expect(engine.requests).not.toContain(`resume ${bob}`);
    engine.end(consult, 'hung-up-local');
    expect(engine.requests).toContain(`resume ${bob}`);
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.failures[bob]).toBeUndefined();
  });

  it('the held party hanging up during a consult ends the transfer and leaves the consult call as a call', () => {
    const { bob, consult } = consulting();
    answered(consult);
    engine.end(bob, 'hung-up-remote');
    expect(transfers.forCall(bob)).toBeUndefined();
    expect(transfers.transferred[bob]).toBeUndefined();
    expect(transfers.consultedFor(consult)).toBeUndefined();
    expect(engine.requests).not.toContain(`hang up ${consult}`);
  });

  it('forgets a failure once the card has gone', () => {
    const { bob, consult } = consulting();
    engine.end(consult, 'declined');
    expect(transfers.failures[bob]).toBe("Couldn't transfer the call. 103 declined the call.");
    engine.end(bob, 'hung-up-remote');
    vi.runOnlyPendingTimers();
    expect(phone.calls[bob]).toBeUndefined();
    expect(transfers.failures[bob]).toBeUndefined();
  });
});
