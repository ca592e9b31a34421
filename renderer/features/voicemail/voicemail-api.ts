/**
 * The app's side of the voicemail contract (shared/voicemail.ts): the mailbox list, moving a message between new and
 * saved, deleting it, its audio as a Blob (an `<audio src>` cannot send the bearer token, so the audio is fetched
 * here and played from an object URL), and the mailbox PIN. Every failure becomes a RequestError whose message is a
 * sentence a person can act on; status codes stay in the log.
 */
import { ApiError } from '../../../shared/api';
import { VOICEMAIL_PIN_PATH, VOICEMAILS_PATH, VoicemailList } from '../../../shared/voicemail';
import type { VoicemailBox, VoicemailList as VoicemailListType } from '../../../shared/voicemail';
import { normalizeServerUrl, RequestError, SESSION_ENDED } from '../../api/client';
import type { ClientOptions } from '../../api/client';
import { createLogger } from '../../log';

const log = createLogger('voicemail-api');

const DEFAULT_TIMEOUT_MS = 15_000;
/** A long message on a slow line still arrives; the list's requests keep the usual limit. */
const AUDIO_TIMEOUT_MS = 60_000;

/** Where to reach the mailbox, as signed in. */
export interface MailboxAccount {
  serverUrl: string;
  token: string;
}

interface Request {
  method?: 'GET' | 'PATCH' | 'DELETE' | 'PUT';
  /** Under the server's base URL, query included. */
  path: string;
  body?: unknown;
  accept?: string;
  /** What the person asked for, after "Can't reach the server at … to". */
  doing: string;
  /** The sentence when the server refuses without one of its own. */
  failed: string;
  timeoutMs?: number;
  /** The message is no longer there (deleted elsewhere): the sentence to show. */
  notFound?: string;
}

/** The server's message as a sentence: capitalised and ending in a full stop. */
function sentence(message: string | undefined): string | undefined {
  const text = message?.trim();
  if (!text) return undefined;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    // An HTML error page or an empty body: the status code is all there is to go on.
    return undefined;
  }
}

async function send(account: MailboxAccount, request: Request, options: ClientOptions): Promise<Response> {
  const base = normalizeServerUrl(account.serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await fetchImpl(`${base}${request.path}`, {
      method: request.method ?? 'GET',
      headers: {
        authorization: `Bearer ${account.token}`,
        accept: request.accept ?? 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('voicemail request failed', { doing: request.doing, error: error instanceof Error ? error.message : String(error) });
    throw new RequestError(`Can't reach the server at ${base} to ${request.doing}.`);
  }
  if (response.ok) return response;
  const body = await readJson(response);
  if (response.status === 401) throw new RequestError(SESSION_ENDED, true);
  const problem = ApiError.safeParse(body);
  log.warn('voicemail request refused', { doing: request.doing, status: response.status, code: problem.success ? problem.data.error.code : undefined });
  if (response.status === 404 && request.notFound) throw new RequestError(request.notFound);
  throw new RequestError(sentence(problem.success ? problem.data.error.message : undefined) ?? `${request.failed} (error ${response.status}).`);
}

export interface MailboxQuery {
  box: VoicemailBox;
  /** Searched by the server in the transcriptions and callers. */
  q?: string;
  limit?: number;
}

/** One box of the signed-in user's mailbox, newest first, with the counts of both boxes. */
export async function listVoicemails(account: MailboxAccount, query: MailboxQuery, options: ClientOptions = {}): Promise<VoicemailListType> {
  const params = new URLSearchParams({ box: query.box });
  const q = query.q?.trim();
  if (q) params.set('q', q);
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  const response = await send(account, { path: `${VOICEMAILS_PATH}?${params}`, doing: 'load your voicemail', failed: 'Loading your voicemail failed' }, options);
  const list = VoicemailList.safeParse(await readJson(response));
  if (!list.success) {
    log.warn('voicemail list does not match the contract', { issues: list.error.issues.length });
    throw new RequestError('The server sent a voicemail list this app does not understand.');
  }
  return list.data;
}

const GONE = 'That message is no longer in your mailbox.';

/** Moves a message to `status` (new or saved). */
export async function moveVoicemail(account: MailboxAccount, id: number, status: VoicemailBox, options: ClientOptions = {}): Promise<void> {
  const word = status === 'saved' ? 'save the message' : 'mark the message as new';
  await send(
    account,
    { method: 'PATCH', path: `${VOICEMAILS_PATH}/${id}`, body: { status }, doing: word, failed: `Could not ${word}`, notFound: GONE },
    options,
  );
}

/** Deletes a message and its audio. */
export async function deleteVoicemail(account: MailboxAccount, id: number, options: ClientOptions = {}): Promise<void> {
  await send(account, { method: 'DELETE', path: `${VOICEMAILS_PATH}/${id}`, doing: 'delete the message', failed: 'Could not delete the message', notFound: GONE }, options);
}

/** The recording (audio/ogg) as a Blob, for an object URL to play or download. */
export async function fetchVoicemailAudio(account: MailboxAccount, id: number, options: ClientOptions = {}): Promise<Blob> {
  const response = await send(
    account,
    {
      path: `${VOICEMAILS_PATH}/${id}/audio`,
      accept: 'audio/*',
      doing: 'fetch the message',
      failed: 'The message could not be played',
      timeoutMs: AUDIO_TIMEOUT_MS,
      notFound: GONE,
    },
    options,
  );
  try {
    return await response.blob();
  } catch (error) {
    log.warn('voicemail audio cut off', { error: error instanceof Error ? error.message : String(error) });
    throw new RequestError('The message did not arrive in full. Try again.');
  }
}

/** Sets the PIN that guards the mailbox menu from a phone; the server's sentence says what is wrong with a bad one. */
export async function setVoicemailPin(account: MailboxAccount, pin: string, options: ClientOptions = {}): Promise<void> {
  await send(account, { method: 'PUT', path: VOICEMAIL_PIN_PATH, body: { pin }, doing: 'set your voicemail PIN', failed: 'Could not set the PIN' }, options);
}
