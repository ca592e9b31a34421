/**
 * Add Call, Merge and Remove: a conference built from the call's card, mixed at the PBX (each party hears all the
 * others, never themselves). The app asks over REST on its own legs, named by their sessions' SIP Call-IDs, and
 * follows the calls the phone engine reports:
 *
 * - "Add Call" opens a number field on the card (with name search, as the dialer's); "Call" holds this call (the
 *   engine's hold) and places the added call, as a second call is placed.
 * - Once the added call is answered, this call's card offers "Merge": `POST …/merge {withSipCallId}` on this call.
 *   The PBX then ends the added call's session with a BYE, and this session carries the conference. The app takes
 *   this call off hold itself once the added call has ended: the hold is its own re-INVITE (a=sendonly), so only its
 *   resume (a=sendrecv) brings the person's audio back into the mix. The card lists the participants, from the
 *   remote identities of the calls merged, each with "Remove".
 * - "Remove" (the builder's): `DELETE …/participants/:extension`; the PBX hangs that participant up.
 * - If the added call fails or is hung up before it is merged, this call comes off hold, with a sentence saying why
 *   when it failed. More calls may be added the same way, one at a time.
 *
 * Hanging up a conference's card is an ordinary hang-up: the PBX keeps the others connected while two remain.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { mergeCalls, RequestError, removeParticipant } from '../../api/client';
import { createLogger } from '../../log';
import { isEstablished } from '../../phone/call-state';
import type { CallSnapshot, RemoteParty } from '../../phone/engine';
import { partyTitle } from '../../phone/format';
import { useDialerStore } from '../dialer';
import { useSessionStore } from '../sign-in';
import { usePhoneStore } from './phone-store';
import { useTransferStore } from './transfer-store';
import { secondCallFailure } from './second-call';

const log = createLogger('conference');

/**
 * How long the added call may outlive a merge the PBX accepted: the PBX sent its BYE before answering 202, so a
 * session still up after this missed it, and is ended here (the PBX has already let go of it).
 */
export const MERGE_SETTLE_MS = 5_000;

export interface AddCallPanel {
  callId: string;
  /** What the number field holds. */
  number: string;
  /** Why the number can't be called. */
  error: string;
}

/** A call added from a card with "Add Call": ringing or talking (`calling`), or being merged into it (`merging`). */
export interface Addition {
  addedId: string;
  display: string;
  phase: 'calling' | 'merging';
}

/** Someone in a conference the user built, as the user's calls named them. */
export interface Participant extends RemoteParty {
  /** A "Remove" of theirs is on its way to the PBX. */
  removing: boolean;
}

export const useConferenceStore = defineStore('conference', () => {
  const panel = ref<AddCallPanel>();
  /** Calls added with "Add Call", by the id of the call they were added from. */
  const additions = ref<Record<string, Addition>>({});
  /** The participants of each call that carries a conference the user built, by call id. */
  const conferences = ref<Record<string, Participant[]>>({});
  /** The last failure of a call's Add Call, Merge or Remove, shown on its card until the next try or the card goes. */
  const failures = ref<Record<string, string>>({});
  /** Added calls that ended because they were merged: their card says so instead of "Call ended". */
  const merged = ref<Record<string, true>>({});
  /** Calls merged into, to take off hold once the merged call's session has ended: host id → merged call's id. */
  const resumeAfterMerge = new Map<string, string>();
  const settleTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const phone = usePhoneStore();
  const transfers = useTransferStore();
  // Synchronous, so that the store follows every change the engine reports, in order.
  watch(() => phone.calls, reconcile, { deep: true, flush: 'sync' });
  // One panel on a card at a time: the transfer panel or the dial pad opening closes this one.
  watch(
    [() => transfers.panel?.callId, () => phone.keypadCallId],
    ([transferId, keypadId]) => {
      if (transferId !== undefined || keypadId !== undefined) panel.value = undefined;
    },
    { flush: 'sync' },
  );

  function isAdded(id: string): boolean {
    return Object.values(additions.value).some((addition) => addition.addedId === id);
  }

  /** "Add Call" is offered on an established call while no other call is being added and no transfer is under way. */
  function canAdd(id: string): boolean {
    const call = phone.calls[id];
    if (!call || !isEstablished(call.state) || !call.sipCallId) return false;
    if (Object.keys(additions.value).length > 0) return false;
    return transfers.forCall(id) === undefined && transfers.consultedFor(id) === undefined;
  }

  /** "Merge" works once the call added from `id` is answered and both sessions are known to the PBX. */
  function canMerge(id: string): boolean {
    const addition = additions.value[id];
    const host = phone.calls[id];
    const added = addition ? phone.calls[addition.addedId] : undefined;
    return addition?.phase === 'calling' && !!host?.sipCallId && isEstablished(host.state) && !!added?.sipCallId && isEstablished(added.state);
  }

  function openPanel(id: string): void {
    if (!canAdd(id)) return;
    transfers.closePanel();
    phone.closeKeypad();
    delete failures.value[id];
    panel.value = { callId: id, number: '', error: '' };
  }

  function closePanel(): void {
    panel.value = undefined;
  }

  function setNumber(text: string): void {
    if (!panel.value) return;
    panel.value.number = text;
    panel.value.error = '';
  }

  /** "Call" in the Add Call panel: holds the call and places one to the panel's number. */
  function addCall(): void {
    const open = panel.value;
    if (!open) return;
    const read = useDialerStore().read(open.number);
    if (!read.ok) {
      open.error = read.message;
      return;
    }
    if (!canAdd(open.callId)) {
      open.error = 'The call has ended.';
      return;
    }
    const placed = phone.place(read.dial);
    if (!placed.ok) {
      open.error = placed.message;
      return;
    }
    log.debug('add call', { id: open.callId, added: placed.id });
    additions.value[open.callId] = { addedId: placed.id, display: read.display, phase: 'calling' };
    panel.value = undefined;
    reconcile();
  }

  /** "Merge": the PBX joins the added call into this one, which becomes (or stays) a conference. */
  async function merge(id: string): Promise<void> {
    if (!canMerge(id)) return;
    const addition = additions.value[id]!;
    const host = phone.calls[id]!;
    const added = phone.calls[addition.addedId]!;
    addition.phase = 'merging';
    delete failures.value[id];
    log.debug('merge', { id, added: addition.addedId });
    // Taken now: once merged, the added call's snapshot may be gone before the PBX's answer arrives.
    const joining: Participant[] = conferences.value[id] ? [] : [{ ...host.remote, removing: false }];
    joining.push({ ...added.remote, removing: false });
    const failure = await ask((token, server) => mergeCalls(server, token, host.sipCallId!, { withSipCallId: added.sipCallId! }));
    const current = additions.value[id];
    if (failure !== undefined) {
      if (current) current.phase = 'calling';
      failures.value[id] = `Couldn't merge the calls. ${failure}`;
      // The added call may have ended while the PBX was asked: the call it was added from is then resumed now.
      reconcile();
      return;
    }
    delete additions.value[id];
    merged.value[addition.addedId] = true;
    if (phone.calls[id]) conferences.value[id] = [...(conferences.value[id] ?? []), ...joining];
    resumeAfterMerge.set(id, addition.addedId);
    settleTimers.set(
      addition.addedId,
      setTimeout(() => {
        settleTimers.delete(addition.addedId);
        const left = phone.calls[addition.addedId];
        if (left && left.state !== 'ended') {
          log.warn('the merged call was not ended by the PBX; hanging it up', { id: addition.addedId });
          phone.hangUp(addition.addedId);
        }
      }, MERGE_SETTLE_MS),
    );
    reconcile();
  }

  /** "Remove" on a participant of the conference call `id`: the PBX hangs them up. */
  async function remove(id: string, number: string): Promise<void> {
    const participant = conferences.value[id]?.find((p) => p.number === number);
    const sipCallId = phone.calls[id]?.sipCallId;
    if (!participant || participant.removing || !sipCallId) return;
    participant.removing = true;
    delete failures.value[id];
    log.debug('remove a participant', { id, number });
    const failure = await ask((token, server) => removeParticipant(server, token, sipCallId, number));
    const list = conferences.value[id];
    if (!list) return;
    const index = list.findIndex((p) => p.number === number);
    if (failure === undefined) {
      if (index >= 0) list.splice(index, 1);
      return;
    }
    if (index >= 0) list[index]!.removing = false;
    failures.value[id] = `Couldn't remove ${partyTitle(participant)}. ${failure}`;
  }

  /** Sends a command to the PBX; returns the sentence to show when it was not done. */
  async function ask(command: (token: string, serverUrl: string) => Promise<void>): Promise<string | undefined> {
    const session = useSessionStore();
    const token = session.session?.token;
    if (!token) return 'The phone is not signed in to the server.';
    try {
      await command(token, session.serverUrl);
      return undefined;
    } catch (error) {
      if (!(error instanceof RequestError)) log.error('conference command failed unexpectedly', { error: String(error) });
      return error instanceof RequestError ? error.message : 'Something went wrong.';
    }
  }

  /** Follows the calls: an added call that ends unmerged, or a merged one, gives the line back to the call it came from. */
  function reconcile(): void {
    const calls = phone.calls;
    for (const [id, addition] of Object.entries(additions.value)) {
      const host = calls[id];
      if (!host || host.state === 'ended') {
        delete additions.value[id];
        continue;
      }
      // While merging, the PBX may end the added call before it answers: the answer decides.
      if (addition.phase === 'merging') continue;
      const added = calls[addition.addedId];
      if (added && added.state !== 'ended') continue;
      delete additions.value[id];
      // Hung up by the person called: nothing went wrong that needs a sentence.
      const failure = added?.endReason === 'hung-up-remote' ? undefined : secondCallFailure(added?.endReason, addedWho(added, addition.display));
      if (failure) failures.value[id] = `Couldn't add the call. ${failure}`;
      resumeAfterMerge.set(id, addition.addedId);
    }
    for (const [id, addedId] of [...resumeAfterMerge]) {
      const added = calls[addedId];
      if (added && added.state !== 'ended') continue;
      const host = calls[id];
      // A hold still in flight settles first; a resume already on its way needs no help.
      if (host?.state === 'holding') continue;
      resumeAfterMerge.delete(id);
      if (host?.state === 'held') {
        log.debug('taking the call off hold', { id });
        phone.resume(id);
      }
    }
    for (const id of Object.keys(conferences.value)) if (!calls[id] || calls[id].state === 'ended') delete conferences.value[id];
    for (const id of Object.keys(failures.value)) if (!calls[id]) delete failures.value[id];
    for (const id of Object.keys(merged.value)) {
      if (calls[id]) continue;
      delete merged.value[id];
      clearTimeout(settleTimers.get(id));
      settleTimers.delete(id);
    }
    if (panel.value && !isEstablished(calls[panel.value.callId]?.state ?? 'ended')) panel.value = undefined;
  }

  function addedWho(call: CallSnapshot | undefined, display: string): string {
    return call?.remote.name.trim() ? partyTitle(call.remote) : display;
  }

  return { panel, additions, conferences, failures, merged, isAdded, canAdd, canMerge, openPanel, closePanel, setNumber, addCall, merge, remove };
});
