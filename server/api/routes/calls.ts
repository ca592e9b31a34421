/**
 * Call history: `GET /calls` returns the signed-in user's calls, newest first, as they look from the
 * user's side (outbound, inbound, missed). The PBX's call records are the source of truth; apps cache them.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { CallHistoryQuery } from '../../../shared/api';
import type { CallHistoryEntry, CallHistoryPage } from '../../../shared/api';
import type { CallRecord, Database } from '../../store/schema';
import { validationError } from '../errors';
import { requireSession } from './session';

export async function registerCallRoutes(api: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  const { db } = options;

  api.get('/calls', async (request) => {
    const { user } = await requireSession(db, request);
    const parsed = CallHistoryQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    const { limit, before, after } = parsed.data;

    let query = db
      .selectFrom('call_records')
      .selectAll()
      // Scoped to the caller's organization and to calls the user took part in.
      .where('organization_id', '=', user.organization_id)
      .where((eb) => eb.or([eb('caller_extension', '=', user.extension), eb('callee_extension', '=', user.extension)]));
    if (before !== undefined) query = query.where('id', '<', before);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();

    const page = rows.slice(0, limit);
    const body: CallHistoryPage = { calls: page.map((row) => toEntry(row, user.extension)) };
    const last = page.at(-1);
    if (rows.length > limit && last) body.nextBefore = last.id;
    return body;
  });
}

export function toEntry(row: CallRecord, extension: string): CallHistoryEntry {
  const outbound = row.caller_extension === extension;
  const answered = row.answered_at !== null;
  const direction = outbound ? 'outbound' : answered ? 'inbound' : row.disposition === 'declined' ? 'inbound' : 'missed';
  const durationSeconds =
    answered && row.ended_at ? Math.max(0, Math.round((Date.parse(row.ended_at) - Date.parse(row.answered_at ?? row.ended_at)) / 1000)) : 0;
  return {
    id: row.id,
    direction,
    disposition: row.disposition,
    party: outbound
      ? { name: row.callee, number: row.callee_extension ?? row.callee }
      : { name: row.caller_name, number: row.caller_extension },
    startedAt: row.started_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    durationSeconds,
  };
}
