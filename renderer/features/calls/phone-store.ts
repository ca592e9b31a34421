/**
 * Calls and registration, as the views show them. The store mirrors the snapshots the phone engine reports and
 * forwards what the person asks for; it never decides a call's state itself. An ended call stays on screen for
 * ENDED_CARD_MS so the person can read how it ended, then goes away.
 *
 * It also holds the rules of a phone with more than one call: one call is on the line at a time, so answering,
 * placing or resuming a call first puts the one on the line on hold (call waiting, switching). And the rules of
 * the person's settings: do not disturb (while the PBX's own setting cannot be read) turns calls away with 486 before they ring, auto-answer picks them up
 * after a short ring, and the ringtone plays while anything rings.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RegistrationState } from '../../../shared/registration';
import { createLogger } from '../../log';
import { qualityBetween } from '../../phone/call-quality';
import type { CallQuality, MediaStatsSample } from '../../phone/call-quality';
import { isEstablished } from '../../phone/call-state';
import { parseDialString } from '../../phone/dial-string';
import type { DialPadKey } from '../../phone/dial-string';
import type { WakeReason } from '../../phone/connection-keeper';
import type { CallSnapshot, PhoneEngine } from '../../phone/engine';
import { clearKeptCalls, saveKeptCalls, takeKeptCalls } from '../../phone/kept-calls';
import type { KeptCall, KeptCallStorage } from '../../phone/kept-calls';
import { createWebAudioRinger } from '../../phone/tones';
import type { Ringer } from '../../phone/tones';
import { useDevicesStore, useDoNotDisturbStore, useSettingsStore } from '../settings';
import type { MediaDevicesPort } from '../settings';

const log = createLogger('phone-store');

export const ENDED_CARD_MS = 2_000;
/** Long enough to hear that a call came in, short enough for intercom use. */
export const AUTO_ANSWER_DELAY_MS = 1_500;
export const QUALITY_INTERVAL_MS = 2_000;

/** What the store uses besides the engine; tests hand in their own. */
export interface PhoneStartOptions {
  ringer?: Ringer;
  mediaDevices?: MediaDevicesPort;
  /** Where calls are kept across a reload (kept-calls.ts): the tab's sessionStorage unless given. */
  storage?: KeptCallStorage;
}

function sessionStorageOrNone(): KeptCallStorage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    // A browser that refuses storage to this page: calls are not kept over a reload.
    return undefined;
  }
}

export const usePhoneStore = defineStore('phone', () => {
  const registration = ref<RegistrationState>('unregistered');
  const calls = ref<Record<string, CallSnapshot>>({});
  /** What the number field holds. */
  const number = ref('');
  /** Why the last attempt to dial did not place a call. */
  const dialError = ref('');
  /** The call whose dial pad is open (its in-call options give way to the keypad), if any. */
  const keypadCallId = ref<string>();
  /** The keys sent on each call, shown above its keypad. */
  const sentDigits = ref<Record<string, string>>({});
  /** The latest quality estimate of each call on the line. */
  const quality = ref<Record<string, CallQuality>>({});

  // Kept out of the reactive state on purpose: the engine holds JsSIP objects that must not be proxied.
  let engine: PhoneEngine | undefined;
  let ringer: Ringer | undefined;
  let unsubscribe: Array<() => void> = [];
  let keptStorage: KeptCallStorage | undefined;
  /** Calls kept by the page before a reload, waiting for the phone to register to be rejoined. */
  let toRejoin: KeptCall[] = [];
  /** Rejoin INVITEs not answered yet, by call id, with what they rejoin: kept again if the page goes away now. */
  const rejoining = new Map<string, KeptCall>();
  const removals = new Map<string, ReturnType<typeof setTimeout>>();
  /** The name the person picked for each call they placed, shown until the PBX names the other party itself. */
  const placedNames = new Map<string, string>();
  const autoAnswers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Calls turned away by do not disturb: never shown, never rung. */
  const silenced = new Set<string>();
  const lastSamples = new Map<string, MediaStatsSample>();
  let qualityTimer: ReturnType<typeof setInterval> | undefined;

  /** Oldest first, so a new call joins the end of the grid and cards never jump. */
  const callList = computed(() => Object.values(calls.value).sort((a, b) => a.startedAt - b.startedAt));
  const isRegistered = computed(() => registration.value === 'registered');
  const canDial = computed(() => isRegistered.value && number.value.trim() !== '');
  const ringingCalls = computed(() => callList.value.filter((call) => call.state === 'ringing-in'));
  /** The call on the line (or about to be): the one the microphone and speaker belong to. */
  const activeCall = computed(() => callList.value.find((call) => call.state === 'active' || call.state === 'holding'));
  const keypadCall = computed(() => {
    const id = keypadCallId.value;
    const call = id ? calls.value[id] : undefined;
    return call && isEstablished(call.state) ? call : undefined;
  });

  function start(next: PhoneEngine, options: PhoneStartOptions = {}): void {
    stop();
    engine = next;
    ringer = options.ringer ?? (typeof AudioContext === 'undefined' ? undefined : createWebAudioRinger());
    unsubscribe = [
      next.on('registrationChanged', (state) => {
        registration.value = state;
        if (state === 'registered') rejoinKeptCalls(next);
      }),
      next.on('callAdded', update),
      next.on('callChanged', update),
      useDevicesStore().watch((choice) => {
        void next.useDevices({ microphoneId: choice.microphoneId, speakerId: choice.speakerId }).catch((error: unknown) =>
          log.warn('could not move calls to the chosen devices', { error: String(error) }),
        );
        // A ring in progress moves to the new ringer device too.
        if (ringer?.ringing) {
          ringer.stop();
          updateRinger();
        }
      }, options.mediaDevices),
    ];
    qualityTimer = setInterval(() => void sampleQuality(), QUALITY_INTERVAL_MS);
    registration.value = next.registration;
    keptStorage = options.storage ?? sessionStorageOrNone();
    // Calls the page before a reload kept, if this account kept them: rejoined once the phone is registered again.
    toRejoin = keptStorage ? takeKeptCalls(keptStorage, next.account, Date.now()) : [];
    next.start();
  }

  /** Ends every call and forgets them, kept ones too; used on sign-out. */
  function stop(): void {
    toRejoin = [];
    rejoining.clear();
    if (keptStorage) clearKeptCalls(keptStorage);
    engine?.stop();
    for (const off of unsubscribe) off();
    unsubscribe = [];
    engine = undefined;
    ringer?.stop();
    ringer = undefined;
    clearInterval(qualityTimer);
    qualityTimer = undefined;
    for (const timer of [...removals.values(), ...autoAnswers.values()]) clearTimeout(timer);
    removals.clear();
    autoAnswers.clear();
    silenced.clear();
    placedNames.clear();
    lastSamples.clear();
    calls.value = {};
    quality.value = {};
    sentDigits.value = {};
    keypadCallId.value = undefined;
    registration.value = 'unregistered';
    number.value = '';
    dialError.value = '';
  }

  function update(call: CallSnapshot): void {
    const settings = useSettingsStore().settings;
    // A call is judged on arrival: do not disturb switched on while it rings does not end it. The PBX keeps do not
    // disturb itself and rings no device then; the app turns calls away only while the PBX's setting is unknown.
    if (!calls.value[call.id] && call.direction === 'incoming' && useDoNotDisturbStore().silencesLocally) silenced.add(call.id);
    if (silenced.has(call.id)) {
      if (call.state === 'ringing-in') {
        log.debug('do not disturb: turning the call away', { id: call.id });
        engine?.decline(call.id, 'busy');
      } else if (call.state === 'ended') {
        silenced.delete(call.id);
      }
      return;
    }
    calls.value[call.id] = withPlacedName(call);
    if (call.state === 'ringing-in' && settings.autoAnswer) scheduleAutoAnswer(call.id);
    if (!isEstablished(call.state)) forgetQuality(call.id);
    // Answered, a rejoined call has a dialog of its own that the engine keeps; ended, there is nothing to keep.
    if (isEstablished(call.state) || call.state === 'ended') rejoining.delete(call.id);
    if (call.state === 'ended') {
      clearTimeout(autoAnswers.get(call.id));
      autoAnswers.delete(call.id);
      if (keypadCallId.value === call.id) keypadCallId.value = undefined;
      if (!removals.has(call.id)) {
        removals.set(
          call.id,
          setTimeout(() => {
            removals.delete(call.id);
            placedNames.delete(call.id);
            delete calls.value[call.id];
            delete sentDigits.value[call.id];
          }, ENDED_CARD_MS),
        );
      }
    }
    updateRinger();
  }

  /** A call we placed to someone picked by name carries that name while the engine knows only the number. */
  function withPlacedName(call: CallSnapshot): CallSnapshot {
    const name = placedNames.get(call.id);
    if (!name || call.remote.name.trim() !== '') return call;
    return { ...call, remote: { ...call.remote, name } };
  }

  /** Auto-answer is for a free line; a call that arrives during another rings as a waiting call instead. */
  function scheduleAutoAnswer(id: string): void {
    if (autoAnswers.has(id)) return;
    const busy = callList.value.some((other) => other.id !== id && other.state !== 'ringing-in' && other.state !== 'ended');
    if (busy) return;
    autoAnswers.set(
      id,
      setTimeout(() => {
        autoAnswers.delete(id);
        if (calls.value[id]?.state === 'ringing-in') {
          log.debug('auto-answer', { id });
          answer(id);
        }
      }, AUTO_ANSWER_DELAY_MS),
    );
  }

  /** The ringtone plays exactly while some call rings, and stops the moment none does (answered, declined, gone). */
  function updateRinger(): void {
    if (!ringer) return;
    const ringing = ringingCalls.value.length > 0;
    if (!ringing) {
      ringer.stop();
      return;
    }
    if (ringer.ringing) return;
    const settings = useSettingsStore().settings;
    ringer.start({
      ringtone: settings.ringtone ?? 'classic',
      volume: settings.ringVolume ?? 0.8,
      deviceId: useDevicesStore().choice.ringerId,
    });
  }

  function setNumber(value: string): void {
    number.value = value;
    dialError.value = '';
  }

  function pressDigit(key: DialPadKey): void {
    setNumber(number.value + key);
  }

  /** A key from the dial pad or the keyboard: a tone on the call whose keypad is open, else part of the number. */
  function pressKey(key: DialPadKey): void {
    const call = keypadCall.value;
    if (call) sendDtmf(call.id, key);
    else pressDigit(key);
  }

  /** Puts every call on the line on hold except `except`; the way to free the line for another call. */
  function holdOthers(except?: string): void {
    for (const call of callList.value) {
      if (call.id !== except && call.state === 'active') engine?.hold(call.id);
    }
  }

  /**
   * Places a call from the number field; returns its id, or undefined with `dialError` saying why not. `name` is
   * whom the person picked, shown on the call's card with the number.
   */
  function dial(input: string, name?: string): string | undefined {
    const placed = place(input, name);
    if (!placed.ok) {
      dialError.value = placed.message;
      return undefined;
    }
    dialError.value = '';
    number.value = '';
    return placed.id;
  }

  /**
   * Places a call to `input`, first holding the call on the line; the number field is left alone (a consult call
   * for a transfer is placed this way). Says why when it cannot.
   */
  function place(input: string, name?: string): { ok: true; id: string } | { ok: false; message: string } {
    const parsed = parseDialString(input);
    if (!parsed.ok) return parsed;
    if (!engine || !isRegistered.value) {
      return { ok: false, message: 'The phone is not registered yet. Calls can be made once it shows Registered.' };
    }
    log.debug('dial', { target: parsed.target });
    holdOthers();
    const id = engine.call(parsed.target);
    const picked = name?.trim();
    if (picked) {
      placedNames.set(id, picked);
      // The engine reported the call before its id was known here; name it now.
      const placedCall = calls.value[id];
      if (placedCall) calls.value[id] = withPlacedName(placedCall);
    }
    return { ok: true, id };
  }

  /** Answers a ringing call; a call already on the line goes on hold (call waiting). */
  function answer(id: string): void {
    if (!engine) return;
    clearTimeout(autoAnswers.get(id));
    autoAnswers.delete(id);
    holdOthers(id);
    engine.answer(id);
  }

  function decline(id: string): void {
    engine?.decline(id);
  }

  function hangUp(id: string): void {
    engine?.hangUp(id);
  }

  function hold(id: string): void {
    if (keypadCallId.value === id) keypadCallId.value = undefined;
    engine?.hold(id);
  }

  /** Takes a held call off hold, first holding the call on the line, so the two swap. */
  function resume(id: string): void {
    if (!engine) return;
    holdOthers(id);
    engine.resume(id);
  }

  function toggleMute(id: string): void {
    const call = calls.value[id];
    if (call) engine?.setMuted(id, !call.muted);
  }

  function openKeypad(id: string): void {
    const call = calls.value[id];
    if (call && isEstablished(call.state)) keypadCallId.value = id;
  }

  function closeKeypad(): void {
    keypadCallId.value = undefined;
  }

  function sendDtmf(id: string, key: DialPadKey): void {
    if (!engine) return;
    engine.sendDtmf(id, key, useSettingsStore().settings.dtmfMethod ?? 'rfc4733');
    sentDigits.value[id] = (sentDigits.value[id] ?? '') + key;
  }

  /** Reads every active call's statistics and turns the last interval into a quality estimate. */
  async function sampleQuality(): Promise<void> {
    const current = engine;
    if (!current) return;
    const onLine = callList.value.filter((call) => call.state === 'active');
    await Promise.all(
      onLine.map(async (call) => {
        try {
          const sample = await current.readStats(call.id);
          if (!sample || engine !== current || calls.value[call.id]?.state !== 'active') return;
          quality.value[call.id] = qualityBetween(lastSamples.get(call.id), sample);
          lastSamples.set(call.id, sample);
        } catch (error) {
          log.debug('could not read call statistics', { id: call.id, error: String(error) });
        }
      }),
    );
  }

  function forgetQuality(id: string): void {
    if (!(id in quality.value) && !lastSamples.has(id)) return;
    delete quality.value[id];
    lastSamples.delete(id);
  }

  /**
   * The web page is going away (pagehide). Answered calls are not hung up: their dialogs are kept in the tab's
   * sessionStorage and the page that loads next rejoins them (kept-calls.ts), while the PBX plays the other party
   * music on hold. Calls this page was itself still to rejoin (a second reload soon after the first) are kept
   * again as they were, under their first dialog and time. Without any such call the phone stops as on sign-out,
   * unregistering. A page cannot tell a reload from a closed tab, so closing the tab leaves the other party on
   * music for the PBX's grace (15 s) before the call ends.
   *
   * The desktop app hangs up instead, as closing a phone should: it can never rejoin, as Electron's sessionStorage
   * does not outlive a quit.
   */
  function leave(): void {
    const current = engine;
    if (!current || !keptStorage || useSettingsStore().isDesktop) {
      stop();
      return;
    }
    const now = Date.now();
    const kept = [
      ...current.keptCalls().map((call) => ({ ...call, savedAt: now })),
      ...rejoining.values(),
      ...toRejoin,
    ];
    if (kept.length === 0) {
      stop();
      return;
    }
    log.info('keeping calls over the reload', { calls: kept.length });
    saveKeptCalls(keptStorage, current.account, kept);
  }

  /** Rejoins the kept calls, held ones held; at most one comes back on the line, the others held too. */
  function rejoinKeptCalls(current: PhoneEngine): void {
    let lineTaken = activeCall.value !== undefined;
    for (const kept of toRejoin.splice(0)) {
      if (engine !== current) return;
      const held = kept.held || lineTaken;
      lineTaken ||= !held;
      const id = current.rejoin({ ...kept, held });
      if (calls.value[id]?.state !== 'ended') rejoining.set(id, { ...kept, held });
    }
  }

  /** The network, the computer or the page woke up: the phone checks its connection and registers again. */
  function checkConnection(reason: WakeReason): void {
    engine?.checkConnection(reason);
  }

  /** Plays the far end of a call through `element`; returns the function that stops it. */
  function attachRemoteAudio(id: string, element: HTMLAudioElement): () => void {
    return engine?.attachRemoteAudio(id, element) ?? (() => {});
  }

  return {
    registration,
    calls,
    number,
    dialError,
    keypadCallId,
    sentDigits,
    quality,
    callList,
    isRegistered,
    canDial,
    ringingCalls,
    activeCall,
    keypadCall,
    start,
    stop,
    setNumber,
    pressDigit,
    pressKey,
    dial,
    place,
    answer,
    decline,
    hangUp,
    hold,
    resume,
    toggleMute,
    openKeypad,
    closeKeypad,
    sendDtmf,
    sampleQuality,
    checkConnection,
    leave,
    attachRemoteAudio,
  };
});
