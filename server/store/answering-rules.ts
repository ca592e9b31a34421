/**
 * Answering rules and time frames as stored (migration 005). Every function is scoped by organization and user:
 * a row of another organization or another user is, to the caller, a row that does not exist. The checks that
 * need several rows at once (priority conflicts, limits) are the routing layer's (routing/answering-rule-book.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import { DEFAULT_TIME_ZONE, RuleAction, TimeFrameSpec } from '../../shared/answering-rules';
import type { AnsweringRule, AnsweringRuleInput, TimeFrame } from '../../shared/answering-rules';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

type Db = Kysely<Database> | Transaction<Database>;

/** Whose rules and frames: a user of an organization. */
export interface RuleOwner {
  organizationId: number;
  userId: number;
}

export async function getOrganizationTimeZone(db: Db, organizationId: number): Promise<string> {
  const row = await db.selectFrom('organizations').select('time_zone').where('id', '=', organizationId).executeTakeFirst();
  return row?.time_zone ?? DEFAULT_TIME_ZONE;
}

export async function setOrganizationTimeZone(db: Db, organizationId: number, timeZone: string): Promise<void> {
  log.debug('setting time zone', { organizationId, timeZone });
  await db.updateTable('organizations').set({ time_zone: timeZone }).where('id', '=', organizationId).execute();
}

interface TimeFrameRow {
  id: number;
  user_id: number | null;
  name: string;
  spec: string;
}

function toTimeFrame(row: TimeFrameRow): TimeFrame {
  return { id: row.id, name: row.name, scope: row.user_id === null ? 'organization' : 'user', spec: TimeFrameSpec.parse(JSON.parse(row.spec)) };
}

/** The frames a user may use: their own and their organization's, the organization's first. */
export async function listTimeFrames(db: Db, owner: RuleOwner): Promise<TimeFrame[]> {
  const rows = await db
    .selectFrom('time_frames')
    .select(['id', 'user_id', 'name', 'spec'])
    .where('organization_id', '=', owner.organizationId)
    .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '=', owner.userId)]))
    .orderBy('user_id')
    .orderBy('id')
    .execute();
  return rows.map(toTimeFrame);
}

export async function findTimeFrame(db: Db, owner: RuleOwner, id: number): Promise<TimeFrame | undefined> {
  const row = await db
    .selectFrom('time_frames')
    .select(['id', 'user_id', 'name', 'spec'])
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '=', owner.userId)]))
    .executeTakeFirst();
  return row && toTimeFrame(row);
}

export async function countTimeFrames(db: Db, owner: RuleOwner, scope: TimeFrame['scope']): Promise<number> {
  const query = db.selectFrom('time_frames').select((eb) => eb.fn.countAll<number>().as('n')).where('organization_id', '=', owner.organizationId);
  const row = await (scope === 'organization' ? query.where('user_id', 'is', null) : query.where('user_id', '=', owner.userId)).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertTimeFrame(db: Db, owner: RuleOwner, frame: Omit<TimeFrame, 'id'>): Promise<TimeFrame> {
  log.debug('creating time frame', { organizationId: owner.organizationId, scope: frame.scope });
  const now = new Date().toISOString();
  const { id } = await db
    .insertInto('time_frames')
    .values({
      organization_id: owner.organizationId,
      user_id: frame.scope === 'organization' ? null : owner.userId,
      name: frame.name,
      spec: JSON.stringify(frame.spec),
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ...frame, id };
}

/** Renames or redefines a frame the owner can see; its scope stays. False when there is none. */
export async function updateTimeFrame(db: Db, owner: RuleOwner, id: number, frame: Pick<TimeFrame, 'name' | 'spec'>): Promise<boolean> {
  log.debug('updating time frame', { organizationId: owner.organizationId, id });
  const result = await db
    .updateTable('time_frames')
    .set({ name: frame.name, spec: JSON.stringify(frame.spec), updated_at: new Date().toISOString() })
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '=', owner.userId)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteTimeFrame(db: Db, owner: RuleOwner, id: number): Promise<boolean> {
  log.debug('deleting time frame', { organizationId: owner.organizationId, id });
  const result = await db
    .deleteFrom('time_frames')
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '=', owner.userId)]))
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The users of the organization with a rule on this frame. */
export async function usersOfTimeFrame(db: Db, organizationId: number, timeFrameId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('answering_rules')
    .select('user_id')
    .distinct()
    .where('organization_id', '=', organizationId)
    .where('time_frame_id', '=', timeFrameId)
    .execute();
  return rows.map((row) => row.user_id);
}

/** A user's rules, highest priority first. */
export async function listAnsweringRules(db: Db, owner: RuleOwner): Promise<AnsweringRule[]> {
  const rows = await db
    .selectFrom('answering_rules')
    .select(['id', 'name', 'priority', 'enabled', 'time_frame_id', 'action'])
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .orderBy('priority')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    priority: row.priority,
    enabled: row.enabled === 1,
    timeFrameId: row.time_frame_id,
    action: RuleAction.parse(JSON.parse(row.action)),
  }));
}

export async function insertAnsweringRule(db: Db, owner: RuleOwner, rule: AnsweringRuleInput): Promise<AnsweringRule> {
  log.debug('creating answering rule', { organizationId: owner.organizationId, userId: owner.userId });
  const now = new Date().toISOString();
  const { id } = await db
    .insertInto('answering_rules')
    .values({
      organization_id: owner.organizationId,
      user_id: owner.userId,
      name: rule.name,
      priority: rule.priority,
      enabled: rule.enabled ? 1 : 0,
      time_frame_id: rule.timeFrameId,
      action: JSON.stringify(rule.action),
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ...rule, id };
}

export async function updateAnsweringRule(db: Db, owner: RuleOwner, id: number, rule: AnsweringRuleInput): Promise<boolean> {
  log.debug('updating answering rule', { organizationId: owner.organizationId, id });
  const result = await db
    .updateTable('answering_rules')
    .set({
      name: rule.name,
      priority: rule.priority,
      enabled: rule.enabled ? 1 : 0,
      time_frame_id: rule.timeFrameId,
      action: JSON.stringify(rule.action),
      updated_at: new Date().toISOString(),
    })
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteAnsweringRule(db: Db, owner: RuleOwner, id: number): Promise<boolean> {
  log.debug('deleting answering rule', { organizationId: owner.organizationId, id });
  const result = await db
    .deleteFrom('answering_rules')
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Gives each rule its priority; rules not the owner's are left alone. */
export async function setAnsweringRulePriorities(db: Db, owner: RuleOwner, priorities: ReadonlyArray<{ id: number; priority: number }>): Promise<void> {
  log.debug('reordering answering rules', { organizationId: owner.organizationId, userId: owner.userId });
  const now = new Date().toISOString();
  for (const { id, priority } of priorities) {
    await db
      .updateTable('answering_rules')
      .set({ priority, updated_at: now })
      .where('id', '=', id)
      .where('organization_id', '=', owner.organizationId)
      .where('user_id', '=', owner.userId)
      .execute();
  }
}
