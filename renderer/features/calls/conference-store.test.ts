import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakePhoneEngine } from '../../testing/fake-engine';
import type { fakePbx} from '../../testing/fake-pbx';
import { refusal, signedInPhone } from '../../testing/fake-pbx';
import { MERGE_SETTLE_MS, useConferenceStore } from './conference-store';
import type { usePhoneStore } from './phone-store';
import { useTransferStore } from './transfer-store';

const sip = (id: string) => `sip-${id}@fake.test`;
const callUrl = (id: string) => `http://pbx.test/api/v1/calls/${encodeURIComponent(sip(id))}`;

describe('conference store', () => {
  let engine: FakePhoneEngine;
  let phone: ReturnType<typeof usePhoneStore>;
  let conference: ReturnType<typeof useConferenceStore>;
  let pbx: ReturnType<typeof fakePbx>;

  let stopPhone: () => void;

  beforeEach(() => {
    vi.useFakeTimers();
    ({ pbx, phone, engine, stop: stopPhone } = signedInPhone());
    conference = useConferenceStore();
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

  function answered(id: string): void {
    engine.move(id, 'ringing-out');
    engine.move(id, 'connecting');
    engine.move(id, 'active');
  }

  /** Add Call from `host` to `number`, the hold settling as the PBX would; returns the added call's id. */
  function add(host: string, number: string): string {
    conference.openPanel(host);
    conference.setNumber(number);
    conference.addCall();
    const added = conference.additions[host]?.addedId;
    if (!added) throw new Error(`no call was added: ${conference.panel?.error}`);
    engine.settleReoffer(host, true);
    return added;
  }

  /** Bob's call with Carol (103) added and answered, ready to merge. */
  function readyToMerge(): { bob: string; carol: string } {
    const bob = callFromBob();
    const carol = add(bob, '103');
    answered(carol);
    return { bob, carol };
  }

  it('Add Call holds the call and places the added one; Merge waits for it to be answered', async () => {
    const bob = callFromBob();
    conference.openPanel(bob);
    expect(conference.panel).toEqual({ callId: bob, number: '', error: '' });
    conference.setNumber('103');
    conference.addCall();
    const carol = phone.callList.find((call) => call.id !== bob)!.id;
    expect(engine.requests).toEqual([`hold ${bob}`, 'call 103']);
    expect(conference.panel).toBeUndefined();
    expect(conference.additions[bob]).toEqual({ addedId: carol, display: '103', phase: 'calling' });
    expect(conference.isAdded(carol)).toBe(true);
    engine.settleReoffer(bob, true);

    expect(conference.canMerge(bob)).toBe(false);
    await conference.merge(bob);
    expect(pbx.requests).toEqual([]);

    answered(carol);
    expect(conference.canMerge(bob)).toBe(true);
  });

  it('Merge asks the PBX on the first call\'s Call-ID, then resumes it once the PBX has ended the added call', async () => {
    const { bob, carol } = readyToMerge();
    await conference.merge(bob);
    expect(pbx.requests).toEqual([{ url: `${callUrl(bob)}/merge`, method: 'POST', body: { withSipCallId: sip(carol) } }]);
    expect(conference.conferences[bob]).toEqual([
      { name: 'Bob Brown', number: '102', removing: false },
      { name: '', number: '103', removing: false },
    ]);
    expect(conference.additions[bob]).toBeUndefined();
    // Not while the added call is still up: resuming now would put it on hold.
    expect(engine.requests).not.toContain(`resume ${bob}`);

    engine.end(carol, 'hung-up-remote');
    expect(engine.requests.at(-1)).toBe(`resume ${bob}`);
    expect(conference.merged[carol]).toBe(true);
    expect(engine.requests).not.toContain(`hold ${carol}`);
  });

  it('the PBX\'s BYE may come before its 202: the call is resumed once the answer says merged', async () => {
    const { bob, carol } = readyToMerge();
    const release = pbx.holdAnswers();
    const merging = conference.merge(bob);
    expect(conference.additions[bob]?.phase).toBe('merging');
    engine.end(carol, 'hung-up-remote');
    // Neither a failure nor a resume yet: the PBX has not said.
    expect(conference.failures[bob]).toBeUndefined();
    expect(engine.requests).not.toContain(`resume ${bob}`);
    release();
    await merging;
    expect(engine.requests.at(-1)).toBe(`resume ${bob}`);
    expect(conference.conferences[bob]).toHaveLength(2);
  });

  it('a merge the PBX refuses keeps both calls, with its sentence, and Merge can be tried again', async () => {
    const { bob, carol } = readyToMerge();
    pbx.answers.push(refusal(409, 'conflict', 'Only answered calls can be merged.'));
    await conference.merge(bob);
    expect(conference.failures[bob]).toBe("Couldn't merge the calls. Only answered calls can be merged.");
    expect(conference.additions[bob]?.phase).toBe('calling');
    expect(conference.conferences[bob]).toBeUndefined();
    expect(phone.calls[carol]?.state).toBe('active');
    expect(engine.requests).not.toContain(`resume ${bob}`);
    expect(conference.canMerge(bob)).toBe(true);
  });

  it('an added call that fails brings the first call back, saying why', () => {
    const bob = callFromBob();
    const carol = add(bob, '103');
    engine.end(carol, 'busy');
    expect(engine.requests.at(-1)).toBe(`resume ${bob}`);
    expect(conference.additions[bob]).toBeUndefined();
    expect(conference.failures[bob]).toBe("Couldn't add the call. 103 is busy.");
  });

  it('an added call that fails while the hold is in flight resumes the first call once the hold settles', () => {
    const bob = callFromBob();
    conference.openPanel(bob);
    conference.setNumber('103');
    conference.addCall();
    const carol = conference.additions[bob]!.addedId;
    engine.end(carol, 'hung-up-local');
    expect(engine.requests).not.toContain(`resume ${bob}`);
    engine.settleReoffer(bob, true);
    expect(engine.requests.at(-1)).toBe(`resume ${bob}`);
    expect(conference.failures[bob]).toBeUndefined();
  });

  it('Remove asks the PBX to take the participant out of the conference and drops them from the card', async () => {
    const { bob, carol } = readyToMerge();
    await conference.merge(bob);
    engine.end(carol, 'hung-up-remote');
    await conference.remove(bob, '103');
    expect(pbx.requests.at(-1)).toEqual({ url: `${callUrl(bob)}/participants/103`, method: 'DELETE', body: undefined });
    expect(conference.conferences[bob]?.map((p) => p.number)).toEqual(['102']);
  });

  it('a refused Remove keeps the participant, with the PBX\'s sentence', async () => {
    const { bob, carol } = readyToMerge();
    await conference.merge(bob);
    engine.end(carol, 'hung-up-remote');
    pbx.answers.push(refusal(403, 'forbidden', 'Only the person who built the conference can remove others.'));
    await conference.remove(bob, '102');
    expect(conference.conferences[bob]).toContainEqual({ name: 'Bob Brown', number: '102', removing: false });
    expect(conference.failures[bob]).toBe("Couldn't remove Bob Brown. Only the person who built the conference can remove others.");
  });

  it('more calls are added to the conference the same way, one at a time', async () => {
    const { bob, carol } = readyToMerge();
    expect(conference.canAdd(carol)).toBe(false);
    await conference.merge(bob);
    engine.end(carol, 'hung-up-remote');
    engine.settleReoffer(bob, true);

    const dana = add(bob, '104');
    expect(conference.canAdd(bob)).toBe(false);
    answered(dana);
    await conference.merge(bob);
    expect(pbx.requests.at(-1)).toEqual({ url: `${callUrl(bob)}/merge`, method: 'POST', body: { withSipCallId: sip(dana) } });
    expect(conference.conferences[bob]?.map((p) => p.number)).toEqual(['102', '103', '104']);
  });

  it('a merged call the PBX does not end is hung up by the app', async () => {
    const { bob, carol } = readyToMerge();
    await conference.merge(bob);
    vi.advanceTimersByTime(MERGE_SETTLE_MS - 1);
    expect(engine.requests).not.toContain(`hang up ${carol}`);
    vi.advanceTimersByTime(1);
    expect(engine.requests).toContain(`hang up ${carol}`);
  });

  it('a number that cannot be dialled stays in the panel with the reason, and nothing is placed', () => {
    const bob = callFromBob();
    conference.openPanel(bob);
    conference.setNumber('bob');
    conference.addCall();
    expect(conference.panel?.error).toBe('A number can hold only digits, *, # and a leading +.');
    expect(engine.requests).toEqual([]);
  });

  it('offers Add Call on answered calls that are not being transferred, one panel open at a time', () => {
    const ringing = engine.ring({ name: '', number: '104' });
    conference.openPanel(ringing);
    expect(conference.panel).toBeUndefined();

    const bob = callFromBob();
    conference.openPanel(bob);
    expect(conference.panel?.callId).toBe(bob);
    const transfers = useTransferStore();
    transfers.openPanel(bob);
    expect(conference.panel).toBeUndefined();
    conference.openPanel(bob);
    expect(transfers.panel).toBeUndefined();
    phone.openKeypad(bob);
    expect(conference.panel).toBeUndefined();

    transfers.openPanel(bob);
    transfers.setNumber('103');
    transfers.consult();
    expect(conference.canAdd(bob)).toBe(false);
  });

  it('forgets a conference when its call ends', async () => {
    const { bob, carol } = readyToMerge();
    await conference.merge(bob);
    engine.end(carol, 'hung-up-remote');
    engine.end(bob, 'hung-up-local');
    expect(conference.conferences[bob]).toBeUndefined();
  });
});
