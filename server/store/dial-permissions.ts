/**
 * What a user may dial beyond their own organization. Read by the dial policy (server/routing/dial-policy.ts),
 * set by provisioning.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

/** False for an unknown user: no permission is ever granted by default. */
export async function canCallExternal(db: Kysely<Database>, userId: number): Promise<boolean> {
  const row = await db.selectFrom('users').select('can_call_external').where('id', '=', userId).executeTakeFirst();
  return row?.can_call_external === 1;
}

export async function setCanCallExternal(db: Kysely<Database>, userId: number, allowed: boolean): Promise<void> {
  log.debug('setting outside-calls permission', { userId, allowed });
  const result = await db
    .updateTable('users')
    .set({ can_call_external: allowed ? 1 : 0, updated_at: new Date().toISOString() })
    .where('id', '=', userId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new Error(`user ${userId} does not exist`);
}
