/**
 * The answering planner (calls/ports.ts AnsweringPlanner): for a call to a user, their active answering rule
 * at the call's moment, turned into a plan the call engine carries out. A user's rules are compiled once and
 * kept until the rule book says they changed (a rule, a frame, the organization's time zone: RuleChange);
 * do not disturb, a PBX setting of its own, is read for every call and wins over every rule.
 *
 * Do not disturb on: the call goes where the active rule's do-not-disturb says (voicemail or busy) when the
 * active rule is one, else to voicemail. A ring rule's screening (`screen`) goes into its plan: the engine asks
 * callers their name before the devices ring (calls/screening.ts).
 */
import { DEFAULT_RING_SECONDS } from '../../shared/answering-rules';
import type { Destination as RuleDestination, RuleAction } from '../../shared/answering-rules';
import type { AnsweringPlan, AnsweringPlanner, Diversion, ServiceUser } from '../calls';
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { getDoNotDisturb } from '../store/do-not-disturb';
import type { Database } from '../store/schema';
import type { CompiledAnsweringRules } from './answering-rules';
import type { RuleChange } from './answering-rule-book';
import type { RuleOwner } from '../store/answering-rules';

const log = createLogger('answering-rules');

/** Users whose compiled rules are kept at most; the least recently compiled go first. */
export const MAX_CACHED_USERS = 10_000;

const VOICEMAIL: Diversion = { kind: 'voicemail' };

function diversionTo(destination: RuleDestination): Diversion {
  if (destination.type === 'voicemail') return VOICEMAIL;
  return { kind: 'dial', dialled: destination.type === 'user' ? destination.extension : destination.number };
}

/** A rule's action as a plan; with do not disturb on, the setting's plan instead. */
export function planFor(action: RuleAction, doNotDisturb: boolean): AnsweringPlan {
  const defaultRingMs = DEFAULT_RING_SECONDS * 1000;
  if (doNotDisturb || action.type === 'do-not-disturb') {
    const busy = action.type === 'do-not-disturb' && action.then === 'busy';
    return { kind: 'divert', ringMs: defaultRingMs, to: busy ? { kind: 'busy' } : VOICEMAIL, reason: 'do-not-disturb' };
  }
  if (action.type === 'forward') return { kind: 'divert', ringMs: defaultRingMs, to: diversionTo(action.to), reason: 'forwarded' };
  return {
    kind: 'ring',
    ringMs: action.ringSeconds * 1000,
    alsoRing: action.alsoRing.map((destination) => (destination.type === 'user' ? destination.extension : destination.number)),
    whenBusy: diversionTo(action.whenBusy),
    whenNotAnswered: diversionTo(action.whenNotAnswered),
    whenUnreachable: diversionTo(action.whenUnreachable),
    screen: action.screen,
  };
}

export interface RuleCompiler {
  compile(owner: RuleOwner): Promise<CompiledAnsweringRules>;
}

export class RuleAnsweringPlanner implements AnsweringPlanner {
  /** Compiled rules by user id, oldest first (a Map keeps insertion order). */
  private readonly compiled = new Map<number, { organizationId: number; rules: Promise<CompiledAnsweringRules> }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly book: RuleCompiler,
  ) {}

  async plan(user: ServiceUser, at: number): Promise<AnsweringPlan> {
    const owner = { organizationId: user.organizationId, userId: user.userId };
    const [rules, doNotDisturb] = await Promise.all([this.rulesOf(owner), getDoNotDisturb(this.db, owner)]);
    const decision = rules.decide(at);
    log.debug('answering plan', { userId: user.userId, rule: decision.rule?.id ?? null, doNotDisturb });
    return planFor(decision.action, doNotDisturb);
  }

  doNotDisturb(user: { organizationId: number; userId: number }): Promise<boolean> {
    return getDoNotDisturb(this.db, user);
  }

  /** Drops what a change made stale: one user's compiled rules, or everyone's in the organization. */
  rulesChanged(change: RuleChange): void {
    if (change.userId !== undefined) {
      this.compiled.delete(change.userId);
      return;
    }
    for (const [userId, entry] of this.compiled) if (entry.organizationId === change.organizationId) this.compiled.delete(userId);
  }

  /** How many users' rules are compiled and kept (for tests). */
  get cachedUsers(): number {
    return this.compiled.size;
  }

  private rulesOf(owner: RuleOwner): Promise<CompiledAnsweringRules> {
    const cached = this.compiled.get(owner.userId);
    if (cached && cached.organizationId === owner.organizationId) return cached.rules;
    // Kept from the start, so calls at the same moment share one compile; a change meanwhile drops it.
    const rules = this.book.compile(owner);
    const entry = { organizationId: owner.organizationId, rules };
    this.compiled.set(owner.userId, entry);
    if (this.compiled.size > MAX_CACHED_USERS) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    rules.catch(() => {
      // A failed load is not kept: the next call tries again.
      if (this.compiled.get(owner.userId) === entry) this.compiled.delete(owner.userId);
    });
    return rules;
  }
}
