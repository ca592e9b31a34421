/**
 * A rule as its form holds it, and back: what a person fills in is turned into the request the PBX checks, which
 * is the one place rules are validated; its refusal names the field (`action.whenBusy.extension`), and
 * `errorAt` finds the form field that shows it.
 */
import { DEFAULT_RING_SECONDS } from '../../../shared/answering-rules';
import type { AnsweringRule, Destination } from '../../../shared/answering-rules';

export type DestinationKind = Destination['type'];

export interface DestinationDraft {
  type: DestinationKind;
  /** The extension or the number; unused for voicemail. */
  value: string;
}

export type ActionKind = 'ring' | 'forward' | 'do-not-disturb';

export interface RuleDraft {
  name: string;
  /** 0 while none is chosen. */
  timeFrameId: number;
  priority: number;
  enabled: boolean;
  kind: ActionKind;
  ringSeconds: number;
  /** Extensions and numbers, separated by commas or spaces. */
  alsoRing: string;
  whenNotAnswered: DestinationDraft;
  whenBusy: DestinationDraft;
  whenUnreachable: DestinationDraft;
  screen: boolean;
  forwardTo: DestinationDraft;
  dndThen: 'voicemail' | 'busy';
}

const voicemail = (): DestinationDraft => ({ type: 'voicemail', value: '' });

function draftOfDestination(destination: Destination): DestinationDraft {
  if (destination.type === 'user') return { type: 'user', value: destination.extension };
  if (destination.type === 'number') return { type: 'number', value: destination.number };
  return voicemail();
}

export function destinationOf(draft: DestinationDraft): Destination {
  if (draft.type === 'user') return { type: 'user', extension: draft.value.trim() };
  if (draft.type === 'number') return { type: 'number', number: draft.value.trim() };
  return { type: 'voicemail' };
}

/** An extension is 2 to 10 digits; anything else typed is read as a number (the PBX says if it is not one). */
export function alsoRingOf(text: string): Array<{ type: 'user'; extension: string } | { type: 'number'; number: string }> {
  return text
    .split(/[\s,;]+/)
    .filter((item) => item !== '')
    .map((item) => (/^\d{2,10}$/.test(item) ? { type: 'user' as const, extension: item } : { type: 'number' as const, number: item }));
}

/** A new rule's form (below every other rule, on the first frame) or an existing rule's. */
export function draftOf(rule: AnsweringRule | undefined, defaults: { priority: number; timeFrameId: number }): RuleDraft {
  const draft: RuleDraft = {
    name: rule?.name ?? '',
    timeFrameId: rule?.timeFrameId ?? defaults.timeFrameId,
    priority: rule?.priority ?? defaults.priority,
    enabled: rule?.enabled ?? true,
    kind: rule?.action.type ?? 'ring',
    ringSeconds: DEFAULT_RING_SECONDS,
    alsoRing: '',
    whenNotAnswered: voicemail(),
    whenBusy: voicemail(),
    whenUnreachable: voicemail(),
    screen: false,
    forwardTo: { type: 'user', value: '' },
    dndThen: 'voicemail',
  };
  const action = rule?.action;
  if (action?.type === 'ring') {
    draft.ringSeconds = action.ringSeconds;
    draft.alsoRing = action.alsoRing.map((other) => (other.type === 'user' ? other.extension : other.number)).join(', ');
    draft.whenNotAnswered = draftOfDestination(action.whenNotAnswered);
    draft.whenBusy = draftOfDestination(action.whenBusy);
    draft.whenUnreachable = draftOfDestination(action.whenUnreachable);
    draft.screen = action.screen;
  } else if (action?.type === 'forward') {
    draft.forwardTo = draftOfDestination(action.to);
  } else if (action?.type === 'do-not-disturb') {
    draft.dndThen = action.then;
  }
  return draft;
}

/** The request body for the PBX (shared/answering-rules.ts AnsweringRuleInput), unchecked: the PBX checks it. */
export function inputOf(draft: RuleDraft) {
  const base = { name: draft.name, timeFrameId: draft.timeFrameId, priority: draft.priority, enabled: draft.enabled };
  if (draft.kind === 'forward') return { ...base, action: { type: 'forward' as const, to: destinationOf(draft.forwardTo) } };
  if (draft.kind === 'do-not-disturb') return { ...base, action: { type: 'do-not-disturb' as const, then: draft.dndThen } };
  return {
    ...base,
    action: {
      type: 'ring' as const,
      ringSeconds: draft.ringSeconds,
      alsoRing: alsoRingOf(draft.alsoRing),
      whenNotAnswered: destinationOf(draft.whenNotAnswered),
      whenBusy: destinationOf(draft.whenBusy),
      whenUnreachable: destinationOf(draft.whenUnreachable),
      screen: draft.screen,
    },
  };
}

/** The refusal's field when it is `prefix` or inside it (`action.whenBusy.extension` is inside `action.whenBusy`). */
export function isAt(field: string | undefined, prefix: string): boolean {
  return field !== undefined && (field === prefix || field.startsWith(`${prefix}.`));
}
