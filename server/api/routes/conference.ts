/**
 * Conference commands on the signed-in user's own leg of a call, named by the SIP Call-ID of the app's session
 * (features/conference), as transfer is (calls.ts):
 * - `POST /calls/:sipCallId/merge {withSipCallId}`: joins the user's other call into this one; the PBX ends the
 *   user's session of the other call with a BYE, and this session carries the conference.
 * - `DELETE /calls/:sipCallId/participants/:extension`: the builder takes a participant out (they are hung up).
 *   A DELETE on the participant, rather than a `remove` command, because that is what it is: the participant
 *   stops being part of the call, with nothing to send but who; asking twice finds them gone (404) and changes
 *   nothing more.
 *
 * Both answer 202 once the PBX has done it (its BYEs are on their way), or the feature's status with a sentence.
 * The user is the session's, never one named in the request: a Call-ID of someone else's leg finds nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { MergeRequest, ParticipantNumber } from '../../../shared/api';
import type { ConferenceCommands } from '../../features/conference';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { HttpError, validationError } from '../errors';
import { CallPathParams, commandRefusal } from './calls';
import { requireSession } from './session';

const log = createLogger('api-conference');

const ParticipantPathParams = CallPathParams.extend({ extension: ParticipantNumber });

export interface ConferenceRouteOptions {
  db: Kysely<Database>;
  /** The conference feature; without it (tests of other routes) its commands are answered 503. */
  conferences?: ConferenceCommands;
}

export async function registerConferenceRoutes(api: FastifyInstance, options: ConferenceRouteOptions): Promise<void> {
  const { db, conferences } = options;

  api.post('/calls/:sipCallId/merge', async (request, reply) => {
    const { user } = await requireSession(db, request);
    const params = CallPathParams.safeParse(request.params);
    if (!params.success) throw validationError(params.error);
    const body = MergeRequest.safeParse(request.body ?? {});
    if (!body.success) throw validationError(body.error);
    const service = available(conferences);
    log.debug('merge', { user: user.id });
    const outcome = await service.merge({ organizationId: user.organization_id, extension: user.extension }, params.data.sipCallId, body.data.withSipCallId);
    if (outcome.ok) return reply.code(202).send();
    log.info('merge refused', { user: user.id, status: outcome.status });
    throw commandRefusal(outcome, 'merge_failed', 'The calls could not be merged');
  });

  api.delete('/calls/:sipCallId/participants/:extension', async (request, reply) => {
    const { user } = await requireSession(db, request);
    const params = ParticipantPathParams.safeParse(request.params);
    if (!params.success) throw validationError(params.error);
    const service = available(conferences);
    const { sipCallId, extension } = params.data;
    log.debug('remove a participant', { user: user.id, extension });
    const outcome = await service.remove({ organizationId: user.organization_id, extension: user.extension }, sipCallId, extension);
    if (outcome.ok) return reply.code(202).send();
    log.info('removal refused', { user: user.id, extension, status: outcome.status });
    throw commandRefusal(outcome, 'remove_failed', `${extension} could not be removed from the conference`);
  });
}

function available(conferences: ConferenceCommands | undefined): ConferenceCommands {
  if (!conferences) throw new HttpError(503, 'unavailable', 'Conferences are not available on this server.');
  return conferences;
}
