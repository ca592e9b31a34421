/**
 * The owner's voicemail (issue #17, shared/voicemail.ts), every query scoped to the signed-in user:
 *
 * - `GET /voicemails?box=&q=&limit=`: messages newest first, with the mailbox's counts;
 * - `GET /voicemails/:id/audio`: the recording (audio/ogg), with byte ranges (RFC 9110 §14) so a player can seek;
 * - `PATCH /voicemails/:id {status}`: move it between new and saved; the message as it now is;
 * - `DELETE /voicemails/:id`: the message and its audio, 204;
 * - `PUT /voicemail/pin {pin}`: the PIN of the phone menu (*97), 204.
 *
 * Another user's message answers 404, as one that does not exist. Changes are announced by the feature
 * (features/voicemail Mailboxes): the `voicemail` event to the owner's apps and message-waiting to desk phones.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { VOICEMAIL_AUDIO_TYPE, VoicemailPin, VoicemailQuery, VoicemailUpdate } from '../../../shared/voicemail';
import type { Mailboxes, MailboxUser } from '../../features/voicemail';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { servedRange } from '../byte-range';
import { HttpError } from '../errors';
import { parseInput, pathId } from '../route-input';
import { requireSession } from './session';

const log = createLogger('voicemail-api');

const notFound = () => new HttpError(404, 'not_found', 'There is no such voicemail.');

const idOf = (request: FastifyRequest): number => pathId(request, 'There is no such voicemail.');

export async function registerVoicemailRoutes(api: FastifyInstance, options: { db: Kysely<Database>; mailboxes?: Mailboxes }): Promise<void> {
  const { db } = options;

  const owner = async (request: FastifyRequest): Promise<{ user: MailboxUser; mailboxes: Mailboxes }> => {
    const { user } = await requireSession(db, request);
    if (!options.mailboxes) throw new HttpError(503, 'unavailable', 'Voicemail is not available on this server.');
    return { user: { organizationId: user.organization_id, userId: user.id, extension: user.extension }, mailboxes: options.mailboxes };
  };

  api.get('/voicemails', async (request) => {
    const { user, mailboxes } = await owner(request);
    return mailboxes.list(user, parseInput(VoicemailQuery, request.query));
  });

  api.get('/voicemails/:id/audio', async (request, reply) => {
    const { user, mailboxes } = await owner(request);
    const found = await mailboxes.audio(user, idOf(request));
    if (!found) throw notFound();
    let size: number;
    try {
      size = (await stat(found.path)).size;
    } catch (error) {
      log.error('a voicemail has no audio file', { id: found.message.id, file: found.message.file, error });
      throw new HttpError(404, 'not_found', "This voicemail's audio is missing.");
    }
    const range = servedRange(request.headers.range, size, 'recording');
    reply.header('Content-Type', VOICEMAIL_AUDIO_TYPE).header('Accept-Ranges', 'bytes');
    if (!range) return reply.header('Content-Length', size).send(createReadStream(found.path));
    return reply
      .code(206)
      .header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
      .header('Content-Length', range.end - range.start + 1)
      .send(createReadStream(found.path, { start: range.start, end: range.end }));
  });

  api.patch('/voicemails/:id', async (request) => {
    const { user, mailboxes } = await owner(request);
    const id = idOf(request);
    const { status } = parseInput(VoicemailUpdate, request.body);
    if (!(await mailboxes.mark(user, id, status))) throw notFound();
    const item = await mailboxes.item(user, id);
    if (!item) throw notFound();
    return item;
  });

  api.delete('/voicemails/:id', async (request, reply) => {
    const { user, mailboxes } = await owner(request);
    if (!(await mailboxes.remove(user, idOf(request)))) throw notFound();
    return reply.code(204).send();
  });

  api.put('/voicemail/pin', async (request, reply) => {
    const { user, mailboxes } = await owner(request);
    const { pin } = parseInput(VoicemailPin, request.body);
    await mailboxes.setPin(user, pin);
    return reply.code(204).send();
  });
}
