/**
 * The signed-in user's answering rules and time frames, as the PBX keeps them: the list in priority order with
 * the rule that applies now, changes saved one at a time (the PBX checks each, and its refusal comes back with
 * the field at fault), priority changed by moving a rule, and the preview at any moment.
 *
 * The PBX is the source of truth: after each change the list is read again, since one change can move the
 * active rule (a frame edited, a rule moved above the one that applied). While a pane follows the list
 * (`follow`), a change made elsewhere (another device, an administrator's frame or time zone) is read too: the
 * PBX's `answering-rules` event, or a `resync`, reloads it once the pane is not in the middle of something.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { describeAction } from '../../../shared/answering-rules';
import type { AnsweringRule, AnsweringRuleInput, RuleDecision, TimeFrame, TimeFrameUpdate } from '../../../shared/answering-rules';
import { createLogger } from '../../log';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import * as api from './rules-api';
import { RulesApiError } from './rules-api';
import type { RulesAccount } from './rules-api';
import { instantOfWallClock } from './wall-clock';

const log = createLogger('answering-rules');

/** Events come in bursts (a change made here is told back too): one read a burst. */
export const RELOAD_DELAY_MS = 150;

export const useAnsweringRulesStore = defineStore('answering-rules', () => {
  /** Highest priority first. */
  const rules = ref<AnsweringRule[]>([]);
  const frames = ref<TimeFrame[]>([]);
  const activeRuleId = ref<number | null>(null);
  const timeZone = ref('UTC');
  const loading = ref(false);
  const loaded = ref(false);
  /** Why the list could not be loaded or a change made outside a form (a move, a delete). */
  const error = ref('');
  /** What the live region says after a move ("Night moved to position 1 of 3."). */
  const announcement = ref('');

  /** Administrators also set the organization's time zone. */
  const isAdmin = computed(() => useSessionStore().user?.role === 'admin');
  const frameById = computed(() => new Map(frames.value.map((frame) => [frame.id, frame])));

  function account(): RulesAccount | undefined {
    const session = useSessionStore();
    const token = session.session?.token;
    return token ? { serverUrl: session.serverUrl, token } : undefined;
  }

  function need(): RulesAccount {
    const current = account();
    if (!current) throw new RulesApiError('Sign in to change your answering rules.', 401, 'unauthorized');
    return current;
  }

  /** A 401 ends the session here as everywhere in the app; other failures are for the caller to show. */
  function noticed(failure: unknown): RulesApiError {
    const problem = failure instanceof RulesApiError ? failure : new RulesApiError('That did not work. Try again in a moment.', 0, 'failed');
    if (!(failure instanceof RulesApiError)) log.error('unexpected failure', { error: failure instanceof Error ? failure.message : String(failure) });
    if (problem.signedOut && account()) useSessionStore().signOut();
    return problem;
  }

  async function load(): Promise<void> {
    const current = account();
    if (!current) return;
    loading.value = true;
    try {
      const [list, frameList] = await Promise.all([api.listRules(current), api.listTimeFrames(current)]);
      rules.value = list.rules;
      activeRuleId.value = list.activeRuleId;
      timeZone.value = list.timeZone;
      frames.value = frameList.timeFrames;
      loaded.value = true;
      error.value = '';
    } catch (failure) {
      error.value = noticed(failure).message;
    } finally {
      loading.value = false;
    }
  }

  /** Creates (no id) or changes a rule; throws a RulesApiError naming the field at fault when the PBX refuses. */
  async function saveRule(id: number | undefined, input: AnsweringRuleInput): Promise<AnsweringRule> {
    try {
      const saved = id === undefined ? await api.createRule(need(), input) : await api.updateRule(need(), id, input);
      await load();
      return saved;
    } catch (failure) {
      throw noticed(failure);
    }
  }

  async function removeRule(id: number): Promise<boolean> {
    try {
      await api.deleteRule(need(), id);
      await load();
      return true;
    } catch (failure) {
      error.value = noticed(failure).message;
      return false;
    }
  }

  /**
   * Moves a rule to `index` (0 is the highest priority) and saves the order. The list shows the new order at once;
   * a refusal puts the old one back and says why.
   */
  async function moveTo(id: number, index: number): Promise<boolean> {
    const from = rules.value.findIndex((rule) => rule.id === id);
    const to = Math.max(0, Math.min(index, rules.value.length - 1));
    if (from < 0 || from === to) return false;
    const before = rules.value;
    const next = [...before];
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved!);
    rules.value = next;
    try {
      const { rules: saved } = await api.orderRules(need(), next.map((rule) => rule.id));
      rules.value = saved;
      announcement.value = `${moved!.name} moved to position ${to + 1} of ${next.length}.`;
      error.value = '';
      await load();
      return true;
    } catch (failure) {
      rules.value = before;
      error.value = noticed(failure).message;
      announcement.value = `${moved!.name} was not moved: ${error.value}`;
      return false;
    }
  }

  const move = (id: number, delta: -1 | 1) => moveTo(id, rules.value.findIndex((rule) => rule.id === id) + delta);

  /** Creates (no id; `scope` organization for administrators) or changes a frame; throws the PBX's refusal. */
  async function saveFrame(id: number | undefined, input: TimeFrameUpdate, scope: TimeFrame['scope'] = 'user'): Promise<TimeFrame> {
    try {
      const saved = id === undefined ? await api.createTimeFrame(need(), input, scope) : await api.updateTimeFrame(need(), id, input);
      await load();
      return saved;
    } catch (failure) {
      throw noticed(failure);
    }
  }

  /** Deletes a frame; throws the PBX's refusal (a frame that rules still use). */
  async function removeFrame(id: number): Promise<void> {
    try {
      await api.deleteTimeFrame(need(), id);
      await load();
    } catch (failure) {
      throw noticed(failure);
    }
  }

  /** Which rule applies when the organization's clocks show `date` `time`, and what happens then. */
  async function preview(date: string, time: string): Promise<RuleDecision> {
    const at = instantOfWallClock(date, time, timeZone.value);
    if (!at) throw new RulesApiError('Choose a date and a time.', 400, 'invalid_request', date ? 'time' : 'date');
    try {
      return await api.previewAt(need(), at);
    } catch (failure) {
      throw noticed(failure);
    }
  }

  /** Sets the organization's time zone (administrators); throws the PBX's refusal. */
  async function saveTimeZone(zone: string): Promise<void> {
    try {
      timeZone.value = (await api.setTimeZone(need(), zone)).timeZone;
      await load();
    } catch (failure) {
      throw noticed(failure);
    }
  }

  /** The panes following the list, each with what makes it wait (a rule being dragged). */
  const followers = new Set<() => boolean>();
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  function reloadSoon(): void {
    if (followers.size === 0) return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloadTimer = undefined;
      if ([...followers].some((busy) => busy())) reloadSoon();
      else void load();
    }, RELOAD_DELAY_MS);
  }

  /**
   * Reads the list again whenever the PBX says it changed, from now until the function returned is called, waiting
   * while `busy()` says so. A pane calls it when it opens (and loads the list then, so nothing missed matters).
   */
  function follow(busy: () => boolean = () => false): () => void {
    followers.add(busy);
    return () => {
      followers.delete(busy);
      if (followers.size === 0) {
        clearTimeout(reloadTimer);
        reloadTimer = undefined;
      }
    };
  }

  const events = useEventsStore();
  events.on('answering-rules', () => reloadSoon());
  events.on('resync', () => reloadSoon());

  function frameName(id: number): string {
    return frameById.value.get(id)?.name ?? 'a time frame that is gone';
  }

  function summaryOf(rule: AnsweringRule): string {
    return describeAction(rule.action);
  }

  function reset(): void {
    rules.value = [];
    frames.value = [];
    activeRuleId.value = null;
    loaded.value = false;
    error.value = '';
    announcement.value = '';
  }

  return {
    rules,
    frames,
    activeRuleId,
    timeZone,
    loading,
    loaded,
    error,
    announcement,
    isAdmin,
    load,
    saveRule,
    removeRule,
    moveTo,
    move,
    saveFrame,
    removeFrame,
    preview,
    saveTimeZone,
    follow,
    frameName,
    summaryOf,
    reset,
  };
});
