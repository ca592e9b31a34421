/**
 * Calls and registration, as the views show them. The store mirrors the snapshots the phone engine reports and
 * forwards what the person asks for; it never decides a call's state itself. An ended call stays on screen for
 * ENDED_CARD_MS so the person can read how it ended, then goes away.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RegistrationState } from '../../shared/registration';
import { createLogger } from '../log';
import { parseDialString } from '../phone/dial-string';
import type { DialPadKey } from '../phone/dial-string';
import type { CallSnapshot, PhoneEngine } from '../phone/engine';

const log = createLogger('phone-store');

export const ENDED_CARD_MS = 2_000;

export const usePhoneStore = defineStore('phone', () => {
  const registration = ref<RegistrationState>('unregistered');
  const calls = ref<Record<string, CallSnapshot>>({});
  /** What the number field holds. */
  const number = ref('');
  /** Why the last attempt to dial did not place a call. */
  const dialError = ref('');

  // Kept out of the reactive state on purpose: the engine holds JsSIP objects that must not be proxied.
  let engine: PhoneEngine | undefined;
  let unsubscribe: Array<() => void> = [];
  const removals = new Map<string, ReturnType<typeof setTimeout>>();

  /** Oldest first, so a new call joins the end of the grid and cards never jump. */
  const callList = computed(() => Object.values(calls.value).sort((a, b) => a.startedAt - b.startedAt));
  const isRegistered = computed(() => registration.value === 'registered');
  const canDial = computed(() => isRegistered.value && number.value.trim() !== '');

  function start(next: PhoneEngine): void {
    stop();
    engine = next;
    unsubscribe = [
      next.on('registrationChanged', (state) => {
        registration.value = state;
      }),
      next.on('callAdded', update),
      next.on('callChanged', update),
    ];
    registration.value = next.registration;
    next.start();
  }

  /** Ends every call and forgets them; used on sign-out. */
  function stop(): void {
    engine?.stop();
    for (const off of unsubscribe) off();
    unsubscribe = [];
    engine = undefined;
    for (const timer of removals.values()) clearTimeout(timer);
    removals.clear();
    calls.value = {};
    registration.value = 'unregistered';
    number.value = '';
    dialError.value = '';
  }

  function update(call: CallSnapshot): void {
    calls.value[call.id] = call;
    if (call.state === 'ended' && !removals.has(call.id)) {
      removals.set(
        call.id,
        setTimeout(() => {
          removals.delete(call.id);
          delete calls.value[call.id];
        }, ENDED_CARD_MS),
      );
    }
  }

  function setNumber(value: string): void {
    number.value = value;
    dialError.value = '';
  }

  function pressDigit(key: DialPadKey): void {
    setNumber(number.value + key);
  }

  /** Places a call; returns its id, or undefined with `dialError` saying why not. */
  function dial(input: string): string | undefined {
    const parsed = parseDialString(input);
    if (!parsed.ok) {
      dialError.value = parsed.message;
      return undefined;
    }
    if (!engine || !isRegistered.value) {
      dialError.value = 'The phone is not registered yet. Calls can be made once it shows Registered.';
      return undefined;
    }
    log.debug('dial', { target: parsed.target });
    dialError.value = '';
    const id = engine.call(parsed.target);
    number.value = '';
    return id;
  }

  function answer(id: string): void {
    engine?.answer(id);
  }

  function decline(id: string): void {
    engine?.decline(id);
  }

  function hangUp(id: string): void {
    engine?.hangUp(id);
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
    callList,
    isRegistered,
    canDial,
    start,
    stop,
    setNumber,
    pressDigit,
    dial,
    answer,
    decline,
    hangUp,
    attachRemoteAudio,
  };
});
