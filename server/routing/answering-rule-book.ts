/**
 * A user's answering rules and time frames as the API changes them: the checks that need more than one row (a
 * rule's frame exists and is the user's or their organization's, no two rules of equal priority can match the
 * same moment, limits, who may change the organization's frames) around the store, each change in one
 * transaction so two requests cannot slip a conflict in between them; and the decision at a moment.
 */
import type { Kysely, Transaction } from 'kysely';
import { findPriorityConflict, MAX_RULES_PER_USER, MAX_TIME_FRAMES } from '../../shared/answering-rules';
import type { AnsweringRule, AnsweringRuleInput, Destination, RuleAction, RuleDecision, TimeFrame, TimeFrameInput, TimeFrameUpdate } from '../../shared/answering-rules';
import { createLogger } from '../log';
import {
  countTimeFrames,
  deleteAnsweringRule,
  deleteTimeFrame,
  findTimeFrame,
  getOrganizationTimeZone,
  insertAnsweringRule,
  insertTimeFrame,
  listAnsweringRules,
  listTimeFrames,
  setAnsweringRulePriorities,
  setOrganizationTimeZone,
  updateAnsweringRule,
  updateTimeFrame,
  usersOfTimeFrame,
} from '../store/answering-rules';
import type { RuleOwner } from '../store/answering-rules';
import type { Database, UserRole } from '../store/schema';
import { findUserByExtension } from '../store/users';
import { CompiledAnsweringRules } from './answering-rules';

const log = createLogger('answering-rules');

export type RuleBookErrorKind = 'not_found' | 'priority_conflict' | 'in_use' | 'too_many' | 'forbidden' | 'invalid';

/** A refusal in words for people; the API turns the kind into a status. */
export class RuleBookError extends Error {
  constructor(
    readonly kind: RuleBookErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Who asks: the owner of the rules, and whether they may manage the organization's frames. */
export interface RuleActor extends RuleOwner {
  role: UserRole;
}

type Trx = Transaction<Database>;

/** Whose compiled rules a change makes stale: one user's, or (no user) everyone's in the organization. */
export interface RuleChange {
  organizationId: number;
  userId?: number;
}

export class AnsweringRuleBook {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
    /** Told after every change is stored, so compiled rules cached elsewhere (answering-planner.ts) are dropped. */
    private readonly onChange: (change: RuleChange) => void = () => undefined,
  ) {}

  private changed(organizationId: number, userId?: number): void {
    this.onChange(userId === undefined ? { organizationId } : { organizationId, userId });
  }

  listTimeFrames(owner: RuleOwner): Promise<TimeFrame[]> {
    return listTimeFrames(this.db, owner);
  }

  async createTimeFrame(actor: RuleActor, input: TimeFrameInput): Promise<TimeFrame> {
    if (input.scope === 'organization') this.requireAdmin(actor);
    const frame = await this.db.transaction().execute(async (trx) => {
      if ((await countTimeFrames(trx, actor, input.scope)) >= MAX_TIME_FRAMES) {
        throw new RuleBookError('too_many', `There are ${MAX_TIME_FRAMES} time frames already: delete one first.`);
      }
      return insertTimeFrame(trx, actor, input);
    });
    // No rule uses a new frame yet; told all the same, so nothing cached can outlive a change.
    this.changed(actor.organizationId, input.scope === 'user' ? actor.userId : undefined);
    return frame;
  }

  async updateTimeFrame(actor: RuleActor, id: number, input: TimeFrameUpdate): Promise<TimeFrame> {
    const changed = await this.db.transaction().execute(async (trx) => {
      const frame = await this.visibleFrame(trx, actor, id);
      if (frame.scope === 'organization') this.requireAdmin(actor);
      const changed: TimeFrame = { ...frame, ...input };
      // The new shape may make rules that use it collide: those of every user with a rule on it.
      for (const userId of await usersOfTimeFrame(trx, actor.organizationId, id)) {
        const owner = { organizationId: actor.organizationId, userId };
        await this.checkConflicts(trx, owner, await listAnsweringRules(trx, owner), [changed]);
      }
      await updateTimeFrame(trx, actor, id, input);
      return changed;
    });
    // Every user with a rule on the frame: for an organization's frame, anyone in it.
    this.changed(actor.organizationId, changed.scope === 'user' ? actor.userId : undefined);
    return changed;
  }

  async deleteTimeFrame(actor: RuleActor, id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const frame = await this.visibleFrame(trx, actor, id);
      if (frame.scope === 'organization') this.requireAdmin(actor);
      const users = await usersOfTimeFrame(trx, actor.organizationId, id);
      if (users.length > 0) {
        const whose = users.length === 1 && users[0] === actor.userId ? 'one of your rules' : `rules of ${users.length} ${users.length === 1 ? 'user' : 'users'}`;
        throw new RuleBookError('in_use', `The time frame "${frame.name}" is used by ${whose}: change or delete those rules first.`);
      }
      await deleteTimeFrame(trx, actor, id);
    });
    this.changed(actor.organizationId);
  }

  listRules(owner: RuleOwner): Promise<AnsweringRule[]> {
    return listAnsweringRules(this.db, owner);
  }

  async createRule(owner: RuleOwner, input: AnsweringRuleInput): Promise<AnsweringRule> {
    await this.checkDestinations(owner, input.action);
    const rule = await this.db.transaction().execute(async (trx) => {
      const rules = await listAnsweringRules(trx, owner);
      if (rules.length >= MAX_RULES_PER_USER) throw new RuleBookError('too_many', `You have ${MAX_RULES_PER_USER} rules already: delete one first.`);
      await this.visibleFrame(trx, owner, input.timeFrameId, 'timeFrameId');
      await this.checkConflicts(trx, owner, [...rules, { ...input, id: 0 }]);
      log.debug('rule created', { organizationId: owner.organizationId, userId: owner.userId });
      return insertAnsweringRule(trx, owner, input);
    });
    this.changed(owner.organizationId, owner.userId);
    return rule;
  }

  async updateRule(owner: RuleOwner, id: number, input: AnsweringRuleInput): Promise<AnsweringRule> {
    await this.checkDestinations(owner, input.action);
    await this.db.transaction().execute(async (trx) => {
      const rules = await listAnsweringRules(trx, owner);
      if (!rules.some((rule) => rule.id === id)) throw notFound('rule');
      await this.visibleFrame(trx, owner, input.timeFrameId, 'timeFrameId');
      await this.checkConflicts(trx, owner, rules.map((rule) => (rule.id === id ? { ...input, id } : rule)));
      await updateAnsweringRule(trx, owner, id, input);
    });
    this.changed(owner.organizationId, owner.userId);
    return { ...input, id };
  }

  async deleteRule(owner: RuleOwner, id: number): Promise<void> {
    if (!(await deleteAnsweringRule(this.db, owner, id))) throw notFound('rule');
    this.changed(owner.organizationId, owner.userId);
  }

  /** Every rule of the user's, highest priority first, becomes priority 1, 2, 3... */
  async reorderRules(owner: RuleOwner, ids: readonly number[]): Promise<AnsweringRule[]> {
    const rules = await this.db.transaction().execute(async (trx) => {
      const rules = await listAnsweringRules(trx, owner);
      const known = new Set(rules.map((rule) => rule.id));
      const unknown = ids.find((id) => !known.has(id));
      if (unknown !== undefined) throw notFound('rule');
      if (new Set(ids).size !== ids.length || ids.length !== rules.length) {
        throw new RuleBookError('invalid', 'List every one of your rules once, highest priority first.', 'ids');
      }
      await setAnsweringRulePriorities(trx, owner, ids.map((id, index) => ({ id, priority: index + 1 })));
      return listAnsweringRules(trx, owner);
    });
    this.changed(owner.organizationId, owner.userId);
    return rules;
  }

  /** Which rule applies at `at` (epoch ms; now by the book's clock when left out) and what happens. */
  async decide(owner: RuleOwner, at: number = this.now()): Promise<RuleDecision> {
    return (await this.compile(owner)).decide(at);
  }

  /** The user's rules compiled for evaluation: load once, then decide as often as needed. */
  async compile(owner: RuleOwner): Promise<CompiledAnsweringRules> {
    const [rules, frames, timeZone] = await Promise.all([listAnsweringRules(this.db, owner), listTimeFrames(this.db, owner), getOrganizationTimeZone(this.db, owner.organizationId)]);
    return new CompiledAnsweringRules(rules, frames, timeZone);
  }

  timeZone(organizationId: number): Promise<string> {
    return getOrganizationTimeZone(this.db, organizationId);
  }

  async setTimeZone(actor: RuleActor, timeZone: string): Promise<void> {
    this.requireAdmin(actor);
    await setOrganizationTimeZone(this.db, actor.organizationId, timeZone);
    this.changed(actor.organizationId);
  }

  private requireAdmin(actor: RuleActor): void {
    if (actor.role !== 'admin') throw new RuleBookError('forbidden', "Only an administrator can change the organization's time frames and time zone.");
  }

  private async visibleFrame(trx: Trx, owner: RuleOwner, id: number, field?: string): Promise<TimeFrame> {
    const frame = await findTimeFrame(trx, owner, id);
    if (!frame) throw new RuleBookError('not_found', `There is no time frame ${id}.`, field);
    return frame;
  }

  /** Every user a rule sends calls to is one of the organization's, so a typo is caught now, not at the next call. */
  private async checkDestinations(owner: RuleOwner, action: RuleAction): Promise<void> {
    const destinations: Array<[string, Destination]> =
      action.type === 'forward'
        ? [['action.to', action.to]]
        : action.type === 'ring'
          ? [
              ...action.alsoRing.map((destination, i): [string, Destination] => [`action.alsoRing.${i}`, destination]),
              ['action.whenBusy', action.whenBusy],
              ['action.whenNotAnswered', action.whenNotAnswered],
              ['action.whenUnreachable', action.whenUnreachable],
            ]
          : [];
    for (const [field, destination] of destinations) {
      if (destination.type === 'user' && !(await findUserByExtension(this.db, owner.organizationId, destination.extension))) {
        throw new RuleBookError('invalid', `There is no extension ${destination.extension} in your organization.`, `${field}.extension`);
      }
    }
  }

  private async checkConflicts(trx: Trx, owner: RuleOwner, rules: AnsweringRule[], replaced: TimeFrame[] = []): Promise<void> {
    const frames = new Map((await listTimeFrames(trx, owner)).map((frame) => [frame.id, frame]));
    for (const frame of replaced) frames.set(frame.id, frame);
    const conflict = findPriorityConflict(rules, frames);
    if (conflict) throw new RuleBookError('priority_conflict', conflict.message, 'priority');
  }
}

function notFound(what: 'rule'): RuleBookError {
  return new RuleBookError('not_found', `There is no such ${what}.`);
}
