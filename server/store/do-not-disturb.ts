/**
 * Do not disturb as stored (migration 009): read for every call to a user (routing/answering-planner.ts) and set
 * by the user's apps (api/routes/do-not-disturb.ts). Scoped by organization and user.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

export interface DoNotDisturbOwner {
  organizationId: number;
  userId: number;
}

export async function getDoNotDisturb(db: Kysely<Database>, owner: DoNotDisturbOwner): Promise<boolean> {
  const row = await db
    .selectFrom('do_not_disturb')
    .select('enabled')
    .where('user_id', '=', owner.userId)
    .where('organization_id', '=', owner.organizationId)
    .executeTakeFirst();
  return row?.enabled === 1;
}

export async function setDoNotDisturb(db: Kysely<Database>, owner: DoNotDisturbOwner, enabled: boolean): Promise<void> {
  log.debug('setting do not disturb', { userId: owner.userId, enabled });
  const updatedAt = new Date().toISOString();
  await db
    .insertInto('do_not_disturb')
    .values({ user_id: owner.userId, organization_id: owner.organizationId, enabled: enabled ? 1 : 0, updated_at: updatedAt })
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: updatedAt }))
    .execute();
}
