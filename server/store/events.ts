/**
 * The apps' event streams as rows (migration 004): each event addressed to a user gets the next number in that
 * user's stream, in the same transaction that stores it, so numbers have no gaps and never repeat, a restart
 * included. What an event means is shared/events.ts's business; here it is JSON text.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database, StoredEvent } from './schema';

const log = createLogger('event-store');

export interface AppendedEvent {
  userId: number;
  seq: number;
}

export interface NewEvent {
  organizationId: number;
  /** User ids; those not in `organizationId` get nothing. */
  audience: readonly number[];
  type: string;
  /** The event as JSON. */
  body: string;
  publishedAt: string;
}

/**
 * Stores one event for each user of the audience who belongs to the organization, each under the next number
 * of their stream; returns who got which number (user id order). One transaction: all of them or none.
 */
export async function appendEvent(db: Kysely<Database>, event: NewEvent): Promise<AppendedEvent[]> {
  const audience = [...new Set(event.audience)];
  if (audience.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    // The organization is checked against the users table, not taken on trust: an id of another
    // organization's user never gets a row, whatever the caller passed.
    const numbered = await trx
      .insertInto('event_streams')
      .columns(['user_id', 'organization_id', 'last_seq'])
      .expression((eb) =>
        eb
          .selectFrom('users')
          .select((s) => ['users.id', 'users.organization_id', s.lit(1).as('last_seq')])
          .where('users.id', 'in', audience)
          .where('users.organization_id', '=', event.organizationId),
      )
      .onConflict((conflict) => conflict.column('user_id').doUpdateSet((eb) => ({ last_seq: eb('event_streams.last_seq', '+', 1) })))
      .returning(['user_id', 'last_seq'])
      .execute();
    if (numbered.length === 0) return [];
    await trx
      .insertInto('events')
      .values(
        numbered.map((row) => ({
          user_id: row.user_id,
          seq: row.last_seq,
          organization_id: event.organizationId,
          type: event.type,
          body: event.body,
          published_at: event.publishedAt,
        })),
      )
      .execute();
    return numbered.map((row) => ({ userId: row.user_id, seq: row.last_seq })).sort((a, b) => a.userId - b.userId);
  });
}

/** Where a user's stream stands: the last number given out (0 if none) and the oldest still kept, if any. */
export interface StreamPosition {
  lastSeq: number;
  oldestKeptSeq: number | undefined;
}

export async function streamPosition(db: Kysely<Database>, organizationId: number, userId: number): Promise<StreamPosition> {
  const stream = await db
    .selectFrom('event_streams')
    .select('last_seq')
    .where('user_id', '=', userId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!stream) return { lastSeq: 0, oldestKeptSeq: undefined };
  const oldest = await db
    .selectFrom('events')
    .select('seq')
    .where('user_id', '=', userId)
    .orderBy('seq', 'asc')
    .limit(1)
    .executeTakeFirst();
  return { lastSeq: stream.last_seq, oldestKeptSeq: oldest?.seq };
}

/** Up to `limit` of a user's events with a number above `after`, in order. */
export async function readEvents(db: Kysely<Database>, organizationId: number, userId: number, after: number, limit: number): Promise<StoredEvent[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('user_id', '=', userId)
    .where('organization_id', '=', organizationId)
    .where('seq', '>', after)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
}

export interface EventRetention {
  /** Events older than this are deleted. */
  maxAgeMs: number;
  /** At most this many of each user's latest events are kept. */
  maxPerUser: number;
}

/** Deletes what retention no longer keeps; the streams' numbering stays. Returns how many events went. */
export async function purgeEvents(db: Kysely<Database>, retention: EventRetention, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - retention.maxAgeMs).toISOString();
  const old = await db.deleteFrom('events').where('published_at', '<', before).executeTakeFirst();
  const beyond = await db
    .deleteFrom('events')
    .where((eb) =>
      eb(
        'seq',
        '<=',
        eb
          .selectFrom('event_streams')
          .select((s) => s('event_streams.last_seq', '-', retention.maxPerUser).as('keep_after'))
          .whereRef('event_streams.user_id', '=', 'events.user_id'),
      ),
    )
    .executeTakeFirst();
  const count = Number(old.numDeletedRows) + Number(beyond.numDeletedRows);
  if (count > 0) log.debug('purged events', { count });
  return count;
}
