/**
 * Whether the other party has put a call on hold, as the PBX tells it. The PBX anchors the media, so when Alice
 * holds, Bob's phone gets no re-INVITE: the PBX plays him music on hold and says so on the event stream, a `call`
 * event in state `held` whose `heldBy` is Alice, on Bob's leg (named by its SIP Call-ID, which is his JsSIP
 * session's). The next event on that leg (answered again, or ended) clears it. A call the user holds themself is
 * the phone engine's to show (held), and is not counted here.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useEventsStore } from '../events';
import { usePhoneStore } from './phone-store';

export const useRemoteHoldStore = defineStore('remote-hold', () => {
  /** By the SIP Call-ID of the user's leg: the name (or number) of whoever holds the call from the other end. */
  const holders = ref<Record<string, string>>({});
  const phone = usePhoneStore();

  useEventsStore().on('call', (event) => {
    const leg = event.leg;
    if (!leg) return;
    const own = event.parties[0]?.extension;
    const holder = event.state === 'held' ? event.heldBy : undefined;
    if (holder && holder.extension !== own) holders.value[leg.sipCallId] = holder.name.trim() || holder.extension;
    else delete holders.value[leg.sipCallId];
  });

  /** Who put call `id` on hold from the other end, or undefined when nobody did. */
  function heldBy(id: string): string | undefined {
    const sipCallId = phone.calls[id]?.sipCallId;
    return sipCallId === undefined ? undefined : holders.value[sipCallId];
  }

  return { holders, heldBy };
});
