/**
 * The number field of the Phone view: what is typed, formatted for the user's region as it is typed; the
 * people it suggests (directory and recent calls); placing the call in E.164 or as the extension typed; and
 * Redial. Placing and holding calls is the phone store's; this store only reads the field and forwards.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { displayNumber, formatAsTyped, isRegion, readDialNumber, regionFromLocale } from '../../../shared/phone-numbers';
import type { DialNumber, Region } from '../../../shared/phone-numbers';
import { createLogger } from '../../log';
import { suggestNumbers } from './number-suggestions';
import type { NumberSuggestion } from './number-suggestions';
import { useDirectoryStore } from '../contacts';
import { useHistoryStore } from '../history';
import { usePhoneStore } from '../calls';
import { useSessionStore } from '../sign-in';
import { useSettingsStore } from '../settings';

const log = createLogger('dialer');

export const useDialerStore = defineStore('dialer', () => {
  /** Why the number in the field can't be called; the phone store's own reasons are shown beside it. */
  const numberError = ref('');
  /** What this person dialled last in this session, keyed by account so that a second sign-in starts afresh. */
  const lastDialled = ref<{ account: string; number: string; name?: string }>();
  /** The person picked from the suggestions, while the field still shows their number: the call carries their name. */
  let picked: { display: string; name: string } | undefined;
  /** The account whose call history this store has asked for, so the Phone view loads it once per account. */
  let historyLoadedFor: string | undefined;

  const region = computed<Region>(() => {
    const chosen = useSettingsStore().settings.region;
    return chosen && isRegion(chosen) ? chosen : regionFromLocale(globalThis.navigator?.language);
  });

  const account = computed(() => {
    const session = useSessionStore();
    return session.user ? `${session.serverUrl}|${session.user.extension}` : undefined;
  });

  /** The people a number field holding `text` suggests; reactive inside a computed, like `suggestions`. */
  function suggestionsFor(text: string): NumberSuggestion[] {
    return suggestNumbers(text, { directory: useDirectoryStore().entries, history: useHistoryStore().entries, region: region.value });
  }

  const suggestions = computed<NumberSuggestion[]>(() => suggestionsFor(usePhoneStore().number));

  /** Whom Redial calls: the last one dialled here, else the newest outbound call in the history. */
  const redialTarget = computed<{ number: string; name?: string } | undefined>(() => {
    const remembered = lastDialled.value;
    if (remembered && remembered.account === account.value) return remembered;
    const party = useHistoryStore().entries.find((entry) => entry.direction === 'outbound')?.party;
    return party ? { number: party.number, name: party.name || undefined } : undefined;
  });
  const redialNumber = computed(() => redialTarget.value?.number);
  const redialDisplay = computed(() => (redialNumber.value ? display(redialNumber.value) : undefined));

  /** A number from the history, the directory or a call, as the user reads it in their region. */
  function display(number: string): string {
    return displayNumber(number, region.value);
  }

  /**
   * Loads the call history once per account when the Phone view opens, for suggestions and Redial; the Call
   * History pane brings it up to date whenever it opens.
   */
  function prepare(): void {
    const key = account.value;
    if (!key || historyLoadedFor === key) return;
    historyLoadedFor = key;
    void useHistoryStore().refresh();
  }

  /**
   * Text typed into the number field. `appending` says the text grew at its end (typing, pasting), the one time
   * reformatting can't fight the person's cursor or undo a deletion.
   */
  function type(text: string, appending: boolean): void {
    numberError.value = '';
    usePhoneStore().setNumber(typeInto(text, appending));
  }

  /** Text typed into another number field (a transfer's): searches the directory, returns what the field shows. */
  function typeInto(text: string, appending: boolean): string {
    useDirectoryStore().search(text);
    return appending ? formatAsTyped(text, region.value) : text;
  }

  /** What `text` dials (an extension as typed, an outside number in E.164), or why it can't be dialled. */
  function read(text: string): DialNumber {
    return readDialNumber(text, region.value);
  }

  function pick(suggestion: NumberSuggestion): void {
    numberError.value = '';
    usePhoneStore().setNumber(suggestion.display);
    picked = suggestion.name.trim() ? { display: suggestion.display, name: suggestion.name.trim() } : undefined;
    useDirectoryStore().clear();
  }

  /**
   * Calls `text` (the number field by default); returns the call's id, or undefined with the reason shown. The call's
   * card names the person picked from the suggestions (or `name`), as long as the field was not changed since.
   */
  function call(text: string = usePhoneStore().number, name?: string): string | undefined {
    const phone = usePhoneStore();
    const chosen = name ?? (picked && picked.display === text ? picked.name : undefined);
    const read = readDialNumber(text, region.value);
    if (!read.ok) {
      numberError.value = read.message;
      return undefined;
    }
    log.debug('call', { kind: read.kind });
    numberError.value = '';
    const id = phone.dial(read.dial, chosen);
    if (id !== undefined) {
      if (account.value) lastDialled.value = { account: account.value, number: read.dial, name: chosen };
      picked = undefined;
      useDirectoryStore().clear();
    }
    return id;
  }

  function redial(): string | undefined {
    const target = redialTarget.value;
    return target === undefined ? undefined : call(target.number, target.name);
  }

  return { numberError, region, suggestions, suggestionsFor, redialNumber, redialDisplay, display, prepare, type, typeInto, read, pick, call, redial };
});
