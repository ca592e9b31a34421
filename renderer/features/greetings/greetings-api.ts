/**
 * The renderer's side of the greetings contract (shared/greetings.ts): every failure becomes a RequestError with
 * a sentence to show, the PBX's own when it gives one ("A greeting can be at most 2 minutes; this one is 3 min 5 s.").
 */
import { ApiError } from '../../../shared/api';
import { Greeting, GREETINGS_PATH, GreetingList } from '../../../shared/greetings';
import type { GreetingUpdate } from '../../../shared/greetings';
import { normalizeServerUrl, RequestError, SESSION_ENDED } from '../../api/client';
import type { ClientOptions } from '../../api/client';
import { createLogger } from '../../log';

const log = createLogger('greetings-api');

/** Uploads take longer than a list: 10 MB on a slow line. */
const TIMEOUT_MS = 15_000;
const UPLOAD_TIMEOUT_MS = 120_000;

export interface GreetingsAccount {
  server: string;
  token: string;
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Under GREETINGS_PATH. */
  path: string;
  json?: unknown;
  raw?: { body: Blob; type: string };
  /** After "Can't reach the server at … to". */
  doing: string;
  /** When the PBX refuses without a sentence of its own. */
  failed: string;
}

async function send(account: GreetingsAccount, call: Call, options: ClientOptions = {}): Promise<Response> {
  const base = normalizeServerUrl(account.server);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const headers: Record<string, string> = { authorization: `Bearer ${account.token}` };
  let body: BodyInit | undefined;
  if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  } else if (call.raw) {
    headers['content-type'] = call.raw.type;
    body = call.raw.body;
  }
  let response: Response;
  try {
    response = await fetchImpl(`${base}${GREETINGS_PATH}${call.path}`, {
      method: call.method,
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? (call.raw ? UPLOAD_TIMEOUT_MS : TIMEOUT_MS)),
    });
  } catch (error) {
    log.warn('greetings request failed', { doing: call.doing, error: error instanceof Error ? error.message : String(error) });
    throw new RequestError(`Can't reach the server at ${base} to ${call.doing}.`);
  }
  if (response.ok) return response;
  if (response.status === 401) throw new RequestError(SESSION_ENDED, true);
  let problem: ApiError | undefined;
  try {
    const parsed = ApiError.safeParse(await response.json());
    problem = parsed.success ? parsed.data : undefined;
  } catch {
    problem = undefined;
  }
  log.warn('greetings request refused', { doing: call.doing, status: response.status, code: problem?.error.code });
  throw new RequestError(problem?.error.message.trim() || `${call.failed} (error ${response.status}).`);
}

async function parsed<T>(response: Response, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): Promise<T> {
  const result = schema.safeParse(await response.json().catch(() => undefined));
  if (!result.success) throw new RequestError('The server sent greetings this app does not understand.');
  return result.data;
}

export async function fetchGreetings(account: GreetingsAccount, options?: ClientOptions): Promise<Greeting[]> {
  const response = await send(account, { method: 'GET', path: '', doing: 'load your greetings', failed: 'Loading your greetings failed' }, options);
  return (await parsed(response, GreetingList)).greetings;
}

/** Uploads audio (a WAV the app made, or a file as it is) under `name`. */
export async function uploadGreeting(account: GreetingsAccount, name: string, audio: Blob, options?: ClientOptions): Promise<Greeting> {
  const type = audio.type === 'audio/ogg' ? 'audio/ogg' : audio.type === 'audio/wav' ? 'audio/wav' : 'application/octet-stream';
  const response = await send(
    account,
    { method: 'POST', path: `?${new URLSearchParams({ name })}`, raw: { body: audio, type }, doing: 'save the greeting', failed: 'The greeting could not be saved' },
    options,
  );
  return parsed(response, Greeting);
}

export async function updateGreeting(account: GreetingsAccount, id: number, update: GreetingUpdate, options?: ClientOptions): Promise<Greeting> {
  const response = await send(account, { method: 'PATCH', path: `/${id}`, json: update, doing: 'change the greeting', failed: 'The greeting could not be changed' }, options);
  return parsed(response, Greeting);
}

export async function deleteGreeting(account: GreetingsAccount, id: number, options?: ClientOptions): Promise<void> {
  await send(account, { method: 'DELETE', path: `/${id}`, doing: 'delete the greeting', failed: 'The greeting could not be deleted' }, options);
}

/** The stored audio (Ogg Opus), to play from a blob: URL (an audio element cannot send the bearer token). */
export async function fetchGreetingAudio(account: GreetingsAccount, id: number, options?: ClientOptions): Promise<Blob> {
  const response = await send(account, { method: 'GET', path: `/${id}/audio`, doing: 'play the greeting', failed: 'The greeting could not be played' }, options);
  return response.blob();
}
