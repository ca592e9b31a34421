/**
 * Tells the platform what the phone is doing: the registration state (tray icon in the desktop app, page title
 * in the web phone) and a notification for each call that starts ringing, for when Offhook is in the background.
 */
import { watch } from 'vue';
import type { OffhookBridge } from '../shared/bridge';
import type { DialLink } from '../shared/dial-links';
import { createLogger } from './log';
import { partyDetail, partyTitle } from './phone/format';
import type { usePhoneStore } from './features/calls';

const log = createLogger('platform');

type PhoneStore = ReturnType<typeof usePhoneStore>;

/**
 * @param linkAction what an opened tel:/sip:/callto: link does, read when the link arrives. A link that
 *   arrives before the phone is registered waits for registration.
 */
export function syncPlatform(
  bridge: OffhookBridge,
  phone: PhoneStore,
  linkAction: () => 'prefill' | 'call' = () => 'prefill',
  history?: { noteMissedCall(): void; readonly unseenMissed: number; refresh(): Promise<void> },
  voicemail?: { readonly newCount: number },
): () => void {
  const report = (what: string) => (error: unknown) =>
    log.warn(`could not ${what}`, { error: error instanceof Error ? error.message : String(error) });

  const stopRegistration = watch(
    () => phone.registration,
    (state) => void bridge.setRegistrationState(state).catch(report('show the registration state')),
    { immediate: true },
  );

  const notified = new Set<string>();
  const stopCalls = watch(
    () => phone.callList.filter((call) => call.state === 'ringing-in'),
    (ringing) => {
      for (const call of ringing) {
        if (notified.has(call.id)) continue;
        notified.add(call.id);
        const detail = partyDetail(call.remote);
        const body = detail ? `${partyTitle(call.remote)} (${detail})` : partyTitle(call.remote);
        void bridge.notify({ title: 'Incoming call', body, callId: call.id }).catch(report('show a notification'));
      }
      const ringingIds = new Set(ringing.map((call) => call.id));
      for (const id of notified) if (!ringingIds.has(id)) notified.delete(id);
    },
  );

  // A call to us that ended before anyone answered: tell the person, and count it until they look.
  const missedSeen = new Set<string>();
  const stopMissed = watch(
    () => phone.callList.filter((call) => call.state === 'ended' && call.direction === 'incoming' && call.endReason === 'missed'),
    (missed) => {
      for (const call of missed) {
        if (missedSeen.has(call.id)) continue;
        missedSeen.add(call.id);
        history?.noteMissedCall();
        void bridge.notify({ title: 'Missed call', body: partyTitle(call.remote) }).catch(report('show a notification'));
      }
    },
  );
  // The app icon (the tab's title in the web phone) counts what waits for the person: missed calls and new voicemail.
  const stopBadge =
    history || voicemail
      ? watch(
          () => (history?.unseenMissed ?? 0) + (voicemail?.newCount ?? 0),
          (count) => void bridge.setBadgeCount(count).catch(report('show the count of missed calls and new voicemail')),
        )
      : () => undefined;

  // The tray shows the first ringing call; answering or declining it there acts on that call.
  const stopTray = watch(
    () => phone.callList.find((call) => call.state === 'ringing-in'),
    (call) => {
      const ringing = call ? { id: call.id, caller: partyTitle(call.remote) } : null;
      void bridge.setRingingCall(ringing).catch(report('show the ringing call in the tray'));
    },
  );
  const stopAnswerRequests = bridge.onDidRequestAnswer((id) => phone.answer(id));
  const stopDeclineRequests = bridge.onDidRequestDecline((id) => phone.decline(id));

  // The call history is synced whenever the phone (re)registers: after sign-in, and after any reconnect,
  // so the desktop app's copy catches up with calls it missed while offline.
  const stopHistorySync = history
    ? watch(
        () => phone.registration,
        (state, before) => {
          if (state === 'registered' && before !== 'registered') void history.refresh().catch(report('sync the call history'));
        },
      )
    : () => undefined;

  let waitingLink: DialLink | undefined;
  const useLink = (link: DialLink) => {
    phone.setNumber(link.target);
    if (linkAction() === 'call') phone.dial(link.target);
  };
  const stopLinks = bridge.onDidRequestDial((link) => {
    log.debug('dial link', { scheme: link.scheme });
    if (phone.isRegistered) useLink(link);
    else waitingLink = link;
  });
  const stopWaiting = watch(
    () => phone.isRegistered,
    (registered) => {
      if (!registered || !waitingLink) return;
      const link = waitingLink;
      waitingLink = undefined;
      useLink(link);
    },
  );

  return () => {
    stopRegistration();
    stopCalls();
    stopLinks();
    stopWaiting();
    stopMissed();
    stopBadge();
    stopHistorySync();
    stopTray();
    stopAnswerRequests();
    stopDeclineRequests();
  };
}
