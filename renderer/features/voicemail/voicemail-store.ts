/**
 * The signed-in user's mailbox: the box shown (new or saved) with its messages, newest first, as the PBX lists them
 * (the search runs on the PBX, over transcriptions and callers); the counts of both boxes, which the navigation's
 * badge shows; and the one message loaded into the player.
 *
 * Live: the `voicemail` event carries the counts after every change, so the badge follows within a moment, and the
 * list is reloaded shortly after (several events in a burst cost one request). A `resync` reloads as well.
 *
 * Playing a message that is new marks it saved, as the hosted product and a desk phone's menu do. The player holds
 * its message apart from the list, so the message moving to Saved does not stop it.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { VoicemailPin } from '../../../shared/voicemail';
import type { Voicemail, VoicemailBox, VoicemailCounts } from '../../../shared/voicemail';
import { RequestError } from '../../api/client';
import { createLogger } from '../../log';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import { deleteVoicemail, fetchVoicemailAudio, listVoicemails, moveVoicemail, setVoicemailPin } from './voicemail-api';
import type { MailboxAccount } from './voicemail-api';

const log = createLogger('voicemail');

/** How long the list waits for more live events before it reloads, and the search for more typing. */
export const RELOAD_DELAY_MS = 150;
export const SEARCH_DELAY_MS = 250;
export const LIST_LIMIT = 100;

function newestFirst(a: Voicemail, b: Voicemail): number {
  return b.receivedAt.localeCompare(a.receivedAt) || b.id - a.id;
}

export const useVoicemailStore = defineStore('voicemail', () => {
  const box = ref<VoicemailBox>('new');
  const search = ref('');
  /** The box shown, as last loaded: newest first. */
  const items = shallowRef<readonly Voicemail[]>([]);
  const counts = ref<VoicemailCounts>({ new: 0, saved: 0 });
  const loading = ref(false);
  /** Why the list could not be loaded. */
  const error = ref('');
  /** Why the last thing asked of a message (save, delete, play, download) did not happen. */
  const actionError = ref('');
  /** What the last action did, for a status line ("Message deleted."). */
  const notice = ref('');
  /** The message in the player, and its audio as an object URL (revoked when another takes its place). */
  const current = shallowRef<Voicemail>();
  const currentUrl = ref<string>();
  const audioLoading = ref(false);
  let currentBlob: Blob | undefined;

  /** Panes showing the list: while none is, live events update the counts only. */
  let viewers = 0;
  let listSeq = 0;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;

  const newCount = computed(() => counts.value.new);

  function account(): MailboxAccount | undefined {
    const session = useSessionStore();
    const token = session.session?.token;
    return token ? { serverUrl: session.serverUrl, token } : undefined;
  }

  function failed(failure: unknown, fallback: string): string {
    log.warn('voicemail action failed', { error: failure instanceof Error ? failure.message : String(failure) });
    if (failure instanceof RequestError) {
      if (failure.signedOut) useSessionStore().signOut();
      return failure.message;
    }
    return fallback;
  }

  /** Loads the box shown (and the counts). A reply that a later request overtook is dropped. */
  async function refresh(): Promise<void> {
    const a = account();
    if (!a) return;
    const seq = ++listSeq;
    loading.value = true;
    try {
      const list = await listVoicemails(a, { box: box.value, q: search.value, limit: LIST_LIMIT });
      if (seq !== listSeq) return;
      items.value = [...list.items].sort(newestFirst);
      counts.value = list.counts;
      error.value = '';
    } catch (failure) {
      if (seq === listSeq) error.value = failed(failure, 'Loading your voicemail did not work. Try again.');
    } finally {
      if (seq === listSeq) loading.value = false;
    }
  }

  /** The counts alone, for the badge while no pane shows the list. */
  async function refreshCounts(): Promise<void> {
    const a = account();
    if (!a) return;
    try {
      counts.value = (await listVoicemails(a, { box: 'new', limit: 1 })).counts;
    } catch (failure) {
      log.warn('could not load the voicemail counts', { error: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof RequestError && failure.signedOut) useSessionStore().signOut();
    }
  }

  function reloadSoon(): void {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void (viewers > 0 ? refresh() : refreshCounts()), RELOAD_DELAY_MS);
  }

  /** A pane shows the list from now until the function returned is called. */
  function open(): () => void {
    viewers++;
    void refresh();
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      viewers--;
      if (viewers === 0) closePlayer();
    };
  }

  function showBox(next: VoicemailBox): void {
    if (box.value === next) return;
    box.value = next;
    items.value = [];
    void refresh();
  }

  watch(search, () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void refresh(), SEARCH_DELAY_MS);
  });

  /** The message leaves the box shown at once; the reload that follows brings the server's word on it. */
  function takeOut(id: number): void {
    items.value = items.value.filter((item) => item.id !== id);
  }

  function withStatus(id: number, status: VoicemailBox): void {
    if (current.value?.id === id) current.value = { ...current.value, status };
  }

  /** Moves a message between New and Saved. Resolves true once the PBX has it. */
  async function move(id: number, status: VoicemailBox): Promise<boolean> {
    const a = account();
    if (!a) return false;
    actionError.value = '';
    try {
      await moveVoicemail(a, id, status);
    } catch (failure) {
      actionError.value = failed(failure, 'The message could not be moved. Try again.');
      return false;
    }
    if (box.value !== status) takeOut(id);
    withStatus(id, status);
    notice.value = status === 'saved' ? 'Message saved.' : 'Message marked as new.';
    reloadSoon();
    return true;
  }

  async function remove(id: number): Promise<boolean> {
    const a = account();
    if (!a) return false;
    actionError.value = '';
    try {
      await deleteVoicemail(a, id);
    } catch (failure) {
      actionError.value = failed(failure, 'The message could not be deleted. Try again.');
      return false;
    }
    takeOut(id);
    if (current.value?.id === id) closePlayer();
    notice.value = 'Message deleted.';
    reloadSoon();
    return true;
  }

  /** The message's recording: the player's, when it is the one loaded, else fetched. */
  async function audioOf(id: number): Promise<Blob | undefined> {
    if (current.value?.id === id && currentBlob) return currentBlob;
    const a = account();
    if (!a) return undefined;
    try {
      return await fetchVoicemailAudio(a, id);
    } catch (failure) {
      actionError.value = failed(failure, 'The message could not be fetched. Try again.');
      return undefined;
    }
  }

  /**
   * Loads a message into the player (its audio fetched with the session's token) and marks it saved if it was new.
   * Resolves to the object URL to play, or undefined with `actionError` saying why not.
   */
  async function load(voicemail: Voicemail): Promise<string | undefined> {
    if (current.value?.id === voicemail.id && currentUrl.value) return currentUrl.value;
    actionError.value = '';
    audioLoading.value = true;
    try {
      const blob = await audioOf(voicemail.id);
      if (!blob) return undefined;
      closePlayer();
      currentBlob = blob;
      currentUrl.value = URL.createObjectURL(blob);
      current.value = voicemail;
    } finally {
      audioLoading.value = false;
    }
    if (voicemail.status === 'new') {
      void move(voicemail.id, 'saved').then((moved) => {
        if (moved) notice.value = 'Played, so it moved to Saved.';
      });
    }
    return currentUrl.value;
  }

  function closePlayer(): void {
    if (currentUrl.value) URL.revokeObjectURL(currentUrl.value);
    currentUrl.value = undefined;
    currentBlob = undefined;
    current.value = undefined;
  }

  /**
   * Sets the PIN that guards the mailbox menu from a phone. Resolves to '' once the PBX has it, else the sentence
   * saying what is wrong (checked here first, with the contract's own rule, then by the PBX).
   */
  async function setPin(pin: string): Promise<string> {
    const checked = VoicemailPin.safeParse({ pin });
    if (!checked.success) return checked.error.issues[0]?.message ?? 'The PIN must be 4 to 10 digits.';
    const a = account();
    if (!a) return 'Sign in to set your voicemail PIN.';
    try {
      await setVoicemailPin(a, checked.data.pin);
      return '';
    } catch (failure) {
      return failed(failure, 'The PIN could not be set. Try again.');
    }
  }

  function reset(): void {
    closePlayer();
    listSeq++;
    items.value = [];
    counts.value = { new: 0, saved: 0 };
    search.value = '';
    box.value = 'new';
    error.value = '';
    actionError.value = '';
    notice.value = '';
    loading.value = false;
  }

  const events = useEventsStore();
  events.on('voicemail', (event) => {
    counts.value = event.counts;
    if (event.change === 'deleted') {
      takeOut(event.id);
      if (current.value?.id === event.id) closePlayer();
    }
    reloadSoon();
  });
  events.on('resync', () => reloadSoon());

  // A new session (sign-in, another account) starts from its own mailbox; signing out forgets the last one's.
  watch(
    () => useSessionStore().session?.token,
    (token, before) => {
      if (token === before) return;
      reset();
      if (token) void (viewers > 0 ? refresh() : refreshCounts());
    },
    { immediate: true },
  );

  return {
    box,
    search,
    items,
    counts,
    newCount,
    loading,
    error,
    actionError,
    notice,
    current,
    currentUrl,
    audioLoading,
    refresh,
    open,
    showBox,
    move,
    remove,
    audioOf,
    load,
    closePlayer,
    setPin,
  };
});
