/**
 * Calls, from the signed-in user's side:
 * - `GET /calls`: their call history, newest first, as it looks from their side (outbound, inbound, missed). The
 *   PBX's call records are the source of truth; apps cache them.
 * - `POST /calls/:sipCallId/transfer`: transfers the user's leg of a call in progress (features/transfer), named
 *   by the SIP Call-ID of the app's own session. The user is the session's, never one named in the request, so
 *   a Call-ID of someone else's leg finds nothing (the feature looks it up among this user's legs only).
 * Merge and remove, the conference's commands on the same leg, are in conference.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { CallHistoryQuery, TransferRequest } from '../../../shared/api';
import type { CallHistoryEntry, CallHistoryPage } from '../../../shared/api';
import type { TransferCommands } from '../../features/transfer';
import { createLogger } from '../../log';
import type { CallRecord, Database } from '../../store/schema';
import { HttpError, validationError } from '../errors';
import { requireSession } from './session';

const log = createLogger('api-calls');

export const CallPathParams = z.object({
  sipCallId: z.string().min(1, { error: 'the SIP Call-ID is missing' }).max(256, { error: 'the SIP Call-ID is too long' }),
});

/** Codes for programs beside a call feature's sentence, by the status the feature gave (SIP's, as RFC 3261 §21 reads). */
const COMMAND_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  403: 'forbidden',
  404: 'not_found',
  408: 'no_answer',
  409: 'conflict',
  480: 'unavailable',
  481: 'no_such_call',
  484: 'address_incomplete',
  486: 'busy',
  487: 'cancelled',
  488: 'not_acceptable',
  491: 'transfer_in_progress',
  503: 'unavailable',
  603: 'declined',
};

export interface CallRouteOptions {
  db: Kysely<Database>;
  /** The transfer feature; without it (tests of other routes) a transfer is answered 503. */
  transfers?: TransferCommands;
}

export async function registerCallRoutes(api: FastifyInstance, options: CallRouteOptions): Promise<void> {
  const { db, transfers } = options;

  api.post('/calls/:sipCallId/transfer', async (request, reply) => {
    const { user } = await requireSession(db, request);
    const params = CallPathParams.safeParse(request.params);
    if (!params.success) throw validationError(params.error);
    const body = TransferRequest.safeParse(request.body ?? {});
    if (!body.success) throw validationError(body.error);
    if (!transfers) throw new HttpError(503, 'unavailable', 'Transfer is not available on this server.');
    const { sipCallId } = params.data;
    log.debug('transfer', { user: user.id, kind: body.data.kind });
    const outcome = await transfers.transfer({ userId: user.id, organizationId: user.organization_id, extension: user.extension }, sipCallId, body.data);
    if (outcome.ok) return reply.code(202).send();
    log.info('transfer refused', { user: user.id, kind: body.data.kind, status: outcome.status });
    throw commandRefusal(outcome, 'transfer_failed', 'The transfer did not go through');
  });

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

/**
 * A call feature's refusal (transfer, conference) as the HTTP error the app reads: the status, a code for programs
 * and the feature's reason as a sentence (`fallback` when it gave none).
 */
export function commandRefusal(outcome: { status: number; reason: string }, fallbackCode: string, fallback: string): HttpError {
  // The features speak SIP's statuses (404, 480, 486…): HTTP has room for them (RFC 9110 §15 allows any
  // three digits), and the app reads only the class and the sentence. 6xx has no place in HTTP: it is a 4xx there.
  const status = outcome.status >= 600 && outcome.status <= 699 ? 409 : outcome.status >= 400 && outcome.status <= 599 ? outcome.status : 502;
  return new HttpError(status, COMMAND_ERROR_CODES[outcome.status] ?? fallbackCode, sentence(outcome.reason, fallback));
}

/** The feature's reason as a sentence: capitalised, with a full stop. */
function sentence(reason: string, fallback: string): string {
  const text = reason.trim() || fallback;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
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
