/**
 * The directory: `GET /directory?q=&limit=` lists the people of the signed-in user's organization that match
 * what was typed, by name or extension, so the app can suggest them as the person dials.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { DirectoryQuery } from '../../../shared/api';
import type { DirectoryPage } from '../../../shared/api';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { validationError } from '../errors';
import { requireSession } from './session';

const log = createLogger('directory');

/** LIKE treats % and _ as wildcards; what a person types is matched as it is. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function registerDirectoryRoutes(api: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  const { db } = options;

  api.get('/directory', async (request) => {
    const { user } = await requireSession(db, request);
    const parsed = DirectoryQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    const { q, limit } = parsed.data;
    log.debug('search', { organization: user.organization_id, length: q.length });

    const text = likeLiteral(q.toLowerCase());
    // lower() on both sides: LIKE ignores case on SQLite but not on PostgreSQL. ESCAPE is spelled out for the same reason.
    const name = sql<string>`lower(display_name)`;
    const extensionStarts = sql<boolean>`extension like ${`${text}%`} escape '\\'`;
    const nameStarts = sql<boolean>`${name} like ${`${text}%`} escape '\\'`;
    const wordStarts = sql<boolean>`${name} like ${`% ${text}%`} escape '\\'`;
    const nameContains = sql<boolean>`${name} like ${`%${text}%`} escape '\\'`;
    const rank = sql<number>`case
      when extension = ${q} then 0
      when ${extensionStarts} then 1
      when ${nameStarts} then 2
      when ${wordStarts} then 3
      else 4 end`;

    let query = db.selectFrom('users').select(['extension', 'display_name']).where('organization_id', '=', user.organization_id);
    if (q !== '') query = query.where(sql<boolean>`(${extensionStarts} or ${nameContains})`);
    query = query.orderBy(rank);
    // Within a rank: digits read as a keypad user expects (shorter extensions first), words alphabetically.
    query = /^\d*$/.test(q) ? query.orderBy(sql`length(extension)`).orderBy('extension') : query.orderBy(name).orderBy('extension');
    const rows = await query.limit(limit + 1).execute();

    const body: DirectoryPage = {
      entries: rows.slice(0, limit).map((row) => ({ extension: row.extension, displayName: row.display_name })),
      more: rows.length > limit,
    };
    return body;
  });
}
