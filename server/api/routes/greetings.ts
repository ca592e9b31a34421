/**
 * Greetings (issue #17, shared/greetings.ts), every query scoped to the signed-in user and their organization:
 *
 * - `GET /greetings`: the user's greetings, newest first, the active one marked;
 * - `POST /greetings?name=…`: the audio as the raw body (WAV or Ogg Opus, told by its bytes; at most 10 MB),
 *   checked and stored as Ogg Opus; 201 with the greeting;
 * - `PATCH /greetings/:id`: `{ name }` renames, `{ active: true }` makes it the one callers hear;
 * - `DELETE /greetings/:id`: removes it and its audio;
 * - `GET /greetings/:id/audio`: the stored audio, `audio/ogg`, with single byte ranges for seeking.
 *
 * The upload's sender is checked before its body is read, so nobody signed out can make the PBX read 10 MB. A
 * greeting of another user or organization answers 404, as one that does not exist.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { GREETING_AUDIO_TYPE, GREETING_MAX_BYTES, GreetingUpdate, GreetingUploadQuery, greetingSizeProblem } from '../../../shared/greetings';
import type { GreetingList } from '../../../shared/greetings';
import { GreetingError, GreetingLibrary } from '../../features/greetings';
import type { GreetingErrorKind, GreetingOwner } from '../../features/greetings';
import type { Database } from '../../store/schema';
import { servedRange } from '../byte-range';
import { HttpError } from '../errors';
import { parseInput, pathId } from '../route-input';
import { requireSession } from './session';

const STATUS: Record<GreetingErrorKind, number> = { not_found: 404, not_audio: 415, bad_length: 400, too_large: 413, too_many: 409 };

const idOf = (request: FastifyRequest): number => pathId(request, 'There is no such greeting.');

async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GreetingError) throw new HttpError(STATUS[error.kind], error.kind, error.message);
    throw error;
  }
}

function sendAudio(request: FastifyRequest, reply: FastifyReply, audio: Buffer): FastifyReply {
  // Read first: a range refused is answered as JSON, as every API error is.
  const range = servedRange(request.headers.range, audio.length, 'greeting');
  reply.header('Accept-Ranges', 'bytes').type(GREETING_AUDIO_TYPE);
  if (!range) return reply.send(audio);
  return reply
    .code(206)
    .header('Content-Range', `bytes ${range.start}-${range.end}/${audio.length}`)
    .send(audio.subarray(range.start, range.end + 1));
}

export interface GreetingRouteOptions {
  db: Kysely<Database>;
  /** The PBX's data folder, where greeting audio is kept; without one the routes answer 503. */
  dataDir?: string;
}

export async function registerGreetingRoutes(api: FastifyInstance, options: GreetingRouteOptions): Promise<void> {
  const { db, dataDir } = options;
  const library = dataDir === undefined ? undefined : new GreetingLibrary(db, dataDir);
  const owners = new WeakMap<FastifyRequest, GreetingOwner>();

  const ownerOf = async (request: FastifyRequest): Promise<GreetingOwner> => {
    const known = owners.get(request);
    if (known) return known;
    const { user } = await requireSession(db, request);
    return { organizationId: user.organization_id, userId: user.id };
  };
  const open = (): GreetingLibrary => {
    if (!library) throw new HttpError(503, 'unavailable', 'Greetings are not available on this PBX: it has no data folder.');
    return library;
  };

  api.get('/greetings', async (request) => {
    const owner = await ownerOf(request);
    const body: GreetingList = { greetings: await open().list(owner) };
    return body;
  });

  // The upload in a scope of its own: any body is taken as raw bytes here (the bytes say what the audio is),
  // and JSON stays JSON for every other route.
  await api.register(async (upload) => {
    upload.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: GREETING_MAX_BYTES }, (_request, body, done) => done(null, body));
    upload.setErrorHandler((error, request, reply) => {
      if ((error as { statusCode?: number }).statusCode === 413) {
        const length = Number(request.headers['content-length']);
        const message = (Number.isFinite(length) && greetingSizeProblem(length)) || greetingSizeProblem(GREETING_MAX_BYTES + 1)!.replace(/; this one is .*$/, '.');
        return reply.code(413).send(new HttpError(413, 'too_large', message).toBody());
      }
      throw error;
    });
    upload.post(
      '/greetings',
      {
        onRequest: async (request) => {
          owners.set(request, await ownerOf(request));
        },
      },
      async (request, reply) => {
        const owner = await ownerOf(request);
        const { name } = parseInput(GreetingUploadQuery, request.query);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const greeting = await answer(() => open().add(owner, name, body));
        return reply.code(201).send(greeting);
      },
    );
  });

  api.patch('/greetings/:id', async (request) => {
    const owner = await ownerOf(request);
    const id = idOf(request);
    const update = parseInput(GreetingUpdate, request.body);
    return answer(() => open().update(owner, id, update));
  });

  api.delete('/greetings/:id', async (request, reply) => {
    const owner = await ownerOf(request);
    const id = idOf(request);
    await answer(() => open().remove(owner, id));
    return reply.code(204).send();
  });

  api.get('/greetings/:id/audio', async (request, reply) => {
    const owner = await ownerOf(request);
    const id = idOf(request);
    const audio = await answer(() => open().audio(owner, id));
    return sendAudio(request, reply, audio);
  });
}
