/**
 * Transferring a call, as the person does it from the call's card. The PBX does the transfer (its media is anchored
 * there); the app asks for it over REST on the user's leg, named by the session's SIP Call-ID, and follows the calls
 * the phone engine reports:
 *
 * - "Transfer now" (blind): `POST …/transfer {kind: 'blind'}`. Once the PBX has taken it on (202) the target rings;
 *   when someone answers, the PBX ends this user's session with a BYE and the card ends. A refusal brings the call
 *   back with the PBX's sentence.
 * - "Consult" (attended): the call is held and a consult call to the target is placed (as a second call is, through
 *   the phone store). "Complete transfer" asks the PBX to join the two other parties (`{kind: 'attended'}` with the
 *   consult call's Call-ID), and both of this user's sessions end. "Cancel transfer", or the consult call failing
 *   or ending, hangs it up and resumes the held call, saying why when it failed.
 *
 * One panel (the number field and the two buttons) is open at a time, on one call.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { TransferRequest } from '../../../shared/api';
import { RequestError, transferCall } from '../../api/client';
import { createLogger } from '../../log';
import { isEstablished } from '../../phone/call-state';
import type { CallSnapshot } from '../../phone/engine';
import { partyTitle } from '../../phone/format';
import { useDialerStore } from '../dialer';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import { usePhoneStore } from './phone-store';
import { secondCallFailure } from './second-call';

const log = createLogger('transfer');

/**
 * How long a blind transfer the PBX took on may take before the app stops saying "Transferring": the PBX rings the
 * target for at most a minute (server/calls RING_TIMEOUT_MS). It says why a transfer failed on the event stream
 * (a `call` event with a reason, on this call's leg); this is the last resort should that never arrive.
 */
export const BLIND_TRANSFER_WAIT_MS = 65_000;

export type CallTransfer =
  /** Asked for (`requesting`), then taken on by the PBX (`accepted`): the target rings. */
  | { kind: 'blind'; phase: 'requesting' | 'accepted'; target: string; display: string }
  /** The consult call rings or talks (`consulting`), the PBX was asked to join the two (`completing`), or it is being hung up (`cancelling`). */
  | { kind: 'attended'; phase: 'consulting' | 'completing' | 'cancelling'; target: string; display: string; consultId: string };

export interface TransferPanel {
  callId: string;
  /** What the number field holds. */
  number: string;
  /** Why the number can't be transferred to. */
  error: string;
}

/** The first words of every failure, so that it reads the same whichever way the transfer failed. */
const FAILED = "Couldn't transfer the call.";

export const useTransferStore = defineStore('transfer', () => {
  const panel = ref<TransferPanel>();
  /** Transfers under way, by the id of the call being transferred. */
  const transfers = ref<Record<string, CallTransfer>>({});
  /** Why the last transfer of a call failed, shown on its card until the next try or until the card goes. */
  const failures = ref<Record<string, string>>({});
  /** Calls that ended because they were transferred: their card says so instead of "Call ended". */
  const transferred = ref<Record<string, true>>({});
  /** Held calls to resume as soon as their hold has settled (a consult call ended while the hold was in flight). */
  const resumeWhenHeld = new Set<string>();
  const blindTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const phone = usePhoneStore();
  // Synchronous, so that the store follows every change the engine reports, in order.
  watch(() => phone.calls, reconcile, { deep: true, flush: 'sync' });
  // The PBX says on the event stream when a blind transfer it took on fails (declined, busy, nobody answered).
  useEventsStore().on('call', (event) => {
    const leg = event.leg;
    if (!event.reason || !leg) return;
    const id = Object.keys(phone.calls).find((key) => phone.calls[key]?.sipCallId === leg.sipCallId);
    if (id === undefined || transfers.value[id]?.kind !== 'blind') return;
    log.info('the PBX says the blind transfer failed', { id });
    clearTimeout(blindTimers.get(id));
    blindTimers.delete(id);
    delete transfers.value[id];
    failures.value[id] = `${FAILED} ${event.reason.endsWith('.') ? event.reason : `${event.reason}.`}`;
  });

  function forCall(id: string): CallTransfer | undefined {
    return transfers.value[id];
  }

  /** The call that `id` is the consult call of, if it is one. */
  function consultedFor(id: string): string | undefined {
    for (const [callId, transfer] of Object.entries(transfers.value)) {
      if (transfer.kind === 'attended' && transfer.consultId === id) return callId;
    }
    return undefined;
  }

  function openPanel(id: string): void {
    const call = phone.calls[id];
    if (!call || !isEstablished(call.state) || transfers.value[id]) return;
    if (phone.keypadCallId === id) phone.closeKeypad();
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

  /** The panel's number as the dialer reads it, or undefined with the panel saying why not. */
  function panelTarget(): { callId: string; target: string; display: string } | undefined {
    const open = panel.value;
    if (!open) return undefined;
    const read = useDialerStore().read(open.number);
    if (!read.ok) {
      open.error = read.message;
      return undefined;
    }
    if (!phone.calls[open.callId] || !isEstablished(phone.calls[open.callId]!.state)) {
      open.error = 'The call has ended.';
      return undefined;
    }
    return { callId: open.callId, target: read.dial, display: read.display };
  }

  /** "Transfer now": the PBX sends the other party to the panel's number. */
  async function transferNow(): Promise<void> {
    const chosen = panelTarget();
    if (!chosen) return;
    const { callId, target, display } = chosen;
    panel.value = undefined;
    log.debug('blind transfer', { id: callId });
    transfers.value[callId] = { kind: 'blind', phase: 'requesting', target, display };
    const failure = await request(callId, { kind: 'blind', target });
    const current = transfers.value[callId];
    if (current?.kind !== 'blind') return;
    if (failure !== undefined) {
      delete transfers.value[callId];
      failures.value[callId] = failure;
      return;
    }
    current.phase = 'accepted';
    blindTimers.set(
      callId,
      setTimeout(() => {
        blindTimers.delete(callId);
        if (transfers.value[callId]?.kind !== 'blind') return;
        log.info('blind transfer did not complete in time; the call is still here', { id: callId });
        delete transfers.value[callId];
        failures.value[callId] = `${FAILED} ${display} did not answer.`;
      }, BLIND_TRANSFER_WAIT_MS),
    );
  }

  /** "Consult": holds the call and calls the panel's number, to talk before completing the transfer. */
  function consult(): void {
    const chosen = panelTarget();
    if (!chosen) return;
    const { callId, target, display } = chosen;
    const placed = phone.place(target);
    if (!placed.ok) {
      if (panel.value) panel.value.error = placed.message;
      return;
    }
    panel.value = undefined;
    log.debug('consult', { id: callId, consult: placed.id });
    transfers.value[callId] = { kind: 'attended', phase: 'consulting', target, display, consultId: placed.id };
    reconcile();
  }

  /** "Complete transfer": the PBX joins the held party and the consulted one; both of this user's calls end. */
  async function complete(id: string): Promise<void> {
    const transfer = transfers.value[id];
    if (transfer?.kind !== 'attended' || transfer.phase !== 'consulting') return;
    const consultCall = phone.calls[transfer.consultId];
    if (!consultCall?.sipCallId || !isEstablished(consultCall.state)) return;
    delete failures.value[id];
    transfer.phase = 'completing';
    log.debug('complete transfer', { id, consult: transfer.consultId });
    const failure = await request(id, { kind: 'attended', withSipCallId: consultCall.sipCallId });
    const current = transfers.value[id];
    if (failure === undefined || current?.kind !== 'attended') return;
    // The PBX did not join them: both calls are as they were, and the person chooses again.
    current.phase = 'consulting';
    failures.value[id] = failure;
    // The consult call may have ended while the PBX was asked: the held call is then resumed now.
    reconcile();
  }

  /** "Cancel transfer": hangs up the consult call; the held call is resumed once it has ended. */
  function cancel(id: string): void {
    const transfer = transfers.value[id];
    if (transfer?.kind !== 'attended' || transfer.phase === 'completing') return;
    log.debug('cancel transfer', { id });
    transfer.phase = 'cancelling';
    phone.hangUp(transfer.consultId);
  }

  /** Asks the PBX; returns the sentence to show when it did not take the transfer on. */
  async function request(callId: string, body: TransferRequest): Promise<string | undefined> {
    const session = useSessionStore();
    const token = session.session?.token;
    const sipCallId = phone.calls[callId]?.sipCallId;
    if (!token || !sipCallId) return `${FAILED} The phone is not signed in to the server.`;
    try {
      await transferCall(session.serverUrl, token, sipCallId, body);
      return undefined;
    } catch (error) {
      const message = error instanceof RequestError ? error.message : 'Something went wrong.';
      if (!(error instanceof RequestError)) log.error('transfer failed unexpectedly', { error: String(error) });
      return `${FAILED} ${message}`;
    }
  }

  /** Follows the calls: transfers end with their calls, and a consult call's end resumes the held call. */
  function reconcile(): void {
    const calls = phone.calls;
    for (const [id, transfer] of Object.entries(transfers.value)) {
      const call = calls[id];
      if (!call || call.state === 'ended') {
        const done = (transfer.kind === 'blind' && transfer.phase === 'accepted') || (transfer.kind === 'attended' && transfer.phase === 'completing');
        if (done && call) transferred.value[id] = true;
        forget(id);
        continue;
      }
      if (transfer.kind !== 'attended') continue;
      const consultCall = calls[transfer.consultId];
      // Once completing, the PBX ends the consult call first or second; the first call's end settles it.
      if (transfer.phase === 'completing' || (consultCall && consultCall.state !== 'ended')) continue;
      const failure = transfer.phase === 'cancelling' ? undefined : secondCallFailure(consultCall?.endReason, consultWho(consultCall, transfer.display));
      forget(id);
      if (failure) failures.value[id] = `${FAILED} ${failure}`;
      resumeWhenHeld.add(id);
    }
    for (const id of [...resumeWhenHeld]) {
      const call = calls[id];
      if (call?.state === 'held') {
        resumeWhenHeld.delete(id);
        phone.resume(id);
      } else if (call?.state !== 'holding') {
        resumeWhenHeld.delete(id);
      }
    }
    for (const id of Object.keys(failures.value)) if (!calls[id]) delete failures.value[id];
    for (const id of Object.keys(transferred.value)) if (!calls[id]) delete transferred.value[id];
    if (panel.value && !isEstablished(calls[panel.value.callId]?.state ?? 'ended')) panel.value = undefined;
  }

  function consultWho(call: CallSnapshot | undefined, display: string): string {
    return call?.remote.name.trim() ? partyTitle(call.remote) : display;
  }

  function forget(id: string): void {
    delete transfers.value[id];
    clearTimeout(blindTimers.get(id));
    blindTimers.delete(id);
  }

  return { panel, transfers, failures, transferred, forCall, consultedFor, openPanel, closePanel, setNumber, transferNow, consult, complete, cancel };
});
