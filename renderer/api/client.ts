/**
 * The renderer's side of the REST contract in `shared/api.ts`. Every failure becomes a sentence a person can act
 * on; status codes, stack traces and parser output stay in the log.
 */
import { API_PREFIX, ApiError, CallHistoryPage, DirectoryPage, mergePath, OrganizationRequiredError, participantPath, SESSION_RENEW_PATH, SessionResponse, transferPath } from '../../shared/api';
import type { MergeRequest, OrganizationChoice, SessionRequest, TransferRequest } from '../../shared/api';
import { createLogger } from '../log';

const log = createLogger('api');

const DEFAULT_TIMEOUT_MS = 15_000;

/** A failure to show as is: `message` is written for the person signing in. */
export class SignInError extends Error {
  constructor(
    message: string,
    /** The request field the message is about, when the server names one. */
    readonly field?: string,
    /** The organizations to choose from, when the server hosts several and lists them (`organization_required`). */
    readonly organizations?: readonly OrganizationChoice[],
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export interface ClientOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * What a person types as the server, as a base URL without a trailing slash. A bare host name means HTTPS,
 * which is what a PBX on the internet serves.
 */
export function normalizeServerUrl(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '') throw new SignInError('Enter the server address, for example https://pbx.example.com.', 'serverUrl');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new SignInError(`"${trimmed}" is not a server address. Use one like https://pbx.example.com.`, 'serverUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SignInError('The server address must start with https:// or http://.', 'serverUrl');
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

export async function signIn(
  serverUrl: string,
  request: SessionRequest,
  options: ClientOptions = {},
): Promise<SessionResponse> {
  const base = normalizeServerUrl(serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  log.debug('sign in', { server: base, extension: request.extension });

  let response: Response;
  try {
    response = await fetchImpl(`${base}${API_PREFIX}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('sign-in request failed', { server: base, error: error instanceof Error ? error.message : String(error) });
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new SignInError(`The server at ${base} did not answer in time. Try again in a moment.`);
    }
    throw new SignInError(`Can't reach the server at ${base}. Check the address and that the server is running.`);
  }

  const body = await readJson(response);
  if (response.ok) {
    const session = SessionResponse.safeParse(body);
    if (session.success) return session.data;
    log.warn('sign-in reply does not match the contract', { server: base, issues: session.error.issues.length });
    throw new SignInError(`The server at ${base} is not an Offhook server, or runs a version this app does not understand.`);
  }

  const apiError = ApiError.safeParse(body);
  const problem = apiError.success ? apiError.data.error : undefined;
  log.warn('sign-in refused', { server: base, status: response.status, code: problem?.code });
  if (response.status === 401) {
    throw new SignInError(sentence(problem?.message) ?? 'The extension or password is incorrect.');
  }
  if (response.status === 429) {
    throw new SignInError(sentence(problem?.message) ?? 'Too many sign-in attempts. Wait a minute and try again.');
  }
  if (response.status >= 400 && response.status < 500 && problem) {
    const choices = OrganizationRequiredError.safeParse(body);
    const organizations = choices.success ? choices.data.error.organizations : undefined;
    throw new SignInError(sentence(problem.message) ?? 'The server refused the sign-in.', problem.field, organizations);
  }
  if (response.status === 404 || response.status === 405) {
    throw new SignInError(`There is no Offhook server at ${base}. Check the address.`);
  }
  if (response.status >= 500) {
    throw new SignInError(`The server at ${base} could not sign you in right now (error ${response.status}). Try again in a moment.`);
  }
  throw new SignInError(`Signing in failed (error ${response.status}). Try again in a moment.`);
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    // An HTML error page or an empty body: the status code is all there is to go on.
    return undefined;
  }
}

/** The server's message as a sentence: capitalised and ending in a full stop. */
function sentence(message: string | undefined): string | undefined {
  const text = message?.trim();
  if (!text) return undefined;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** A failure to load something the signed-in user asked for, as a sentence to show. */
export class RequestError extends Error {
  constructor(
    message: string,
    /** 401: the session is over and the person must sign in again. */
    readonly signedOut = false,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The sentence shown at sign-in when the server says a kept session is over. */
export const SESSION_ENDED = 'Your session has ended. Sign in again.';

/**
 * The session again, for an app that kept only its token across a reload or a restart (shared/api.ts,
 * SESSION_RENEW_PATH): the same token and SIP password, and a later end. Throws a RequestError that is `signedOut` when the
 * session is over for good (401, or a server that cannot renew), and not when trying again later may work (the
 * server unreachable, busy or failing).
 */
export async function renewSession(serverUrl: string, token: string, options: ClientOptions = {}): Promise<SessionResponse> {
  const base = normalizeServerUrl(serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  log.debug('renew session', { server: base });
  let response: Response;
  try {
    response = await fetchImpl(`${base}${API_PREFIX}${SESSION_RENEW_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('renewing the session failed', { server: base, error: error instanceof Error ? error.message : String(error) });
    if (error instanceof DOMException && error.name === 'TimeoutError') throw new RequestError(`The server at ${base} did not answer in time.`);
    throw new RequestError(`Can't reach the server at ${base}.`);
  }
  const body = await readJson(response);
  if (response.ok) {
    const session = SessionResponse.safeParse(body);
    if (session.success) return session.data;
    log.warn('renew reply does not match the contract', { server: base, issues: session.error.issues.length });
    throw new RequestError(`The server at ${base} runs a version this app does not understand.`);
  }
  log.warn('renewing the session refused', { server: base, status: response.status });
  if (response.status === 429 || response.status >= 500) throw new RequestError(`The server at ${base} could not sign you back in right now (error ${response.status}).`);
  // 401, or a server without renewal (404, 405): only signing in again helps.
  throw new RequestError(SESSION_ENDED, true);
}

/** One page of the signed-in user's call history (newest first). */
export async function fetchCallHistory(
  serverUrl: string,
  token: string,
  query: { limit?: number; before?: number; after?: number } = {},
  options: ClientOptions = {},
): Promise<CallHistoryPage> {
  const base = normalizeServerUrl(serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  let response: Response;
  try {
    response = await fetchImpl(`${base}${API_PREFIX}/calls?${params}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('call history request failed', { error: error instanceof Error ? error.message : String(error) });
    throw new RequestError(`Can't reach the server at ${base} to load your call history.`);
  }
  const body = await readJson(response);
  if (response.status === 401) throw new RequestError('Your session has ended. Sign in again.', true);
  if (!response.ok) {
    const problem = ApiError.safeParse(body);
    throw new RequestError(sentence(problem.success ? problem.data.error.message : undefined) ?? `Loading the call history failed (error ${response.status}).`);
  }
  const page = CallHistoryPage.safeParse(body);
  if (!page.success) throw new RequestError('The server sent a call history this app does not understand.');
  return page.data;
}

/** The people of the user's organization matching `q` (name or extension), best matches first. */
export async function searchDirectory(
  serverUrl: string,
  token: string,
  query: { q: string; limit?: number },
  options: ClientOptions & { signal?: AbortSignal } = {},
): Promise<DirectoryPage> {
  const base = normalizeServerUrl(serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const params = new URLSearchParams({ q: query.q });
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetchImpl(`${base}${API_PREFIX}/directory?${params}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    log.warn('directory request failed', { error: error instanceof Error ? error.message : String(error) });
    throw new RequestError(`Can't reach the server at ${base} to search the directory.`);
  }
  const body = await readJson(response);
  if (response.status === 401) throw new RequestError('Your session has ended. Sign in again.', true);
  if (!response.ok) {
    const problem = ApiError.safeParse(body);
    throw new RequestError(sentence(problem.success ? problem.data.error.message : undefined) ?? `Searching the directory failed (error ${response.status}).`);
  }
  const page = DirectoryPage.safeParse(body);
  if (!page.success) throw new RequestError('The server sent a directory this app does not understand.');
  return page.data;
}

/**
 * Asks the PBX to transfer the user's leg of a call, named by its session's SIP Call-ID. Resolves once the PBX has
 * taken the transfer on (202); throws a RequestError whose message says why not (the PBX's own sentence).
 */
export async function transferCall(
  serverUrl: string,
  token: string,
  sipCallId: string,
  request: TransferRequest,
  options: ClientOptions = {},
): Promise<void> {
  await callCommand(serverUrl, token, { method: 'POST', path: transferPath(sipCallId), body: request, doing: 'transfer the call', failed: 'The transfer did not go through' }, options);
}

/**
 * Asks the PBX to merge the user's call `withSipCallId` into the call `sipCallId` (both named by their sessions' SIP
 * Call-IDs). Resolves once merged (202); throws a RequestError with the PBX's sentence otherwise.
 */
export async function mergeCalls(serverUrl: string, token: string, sipCallId: string, request: MergeRequest, options: ClientOptions = {}): Promise<void> {
  await callCommand(serverUrl, token, { method: 'POST', path: mergePath(sipCallId), body: request, doing: 'merge the calls', failed: 'The calls could not be merged' }, options);
}

/** Asks the PBX to take `extension` out of the conference the user's call `sipCallId` carries (202 once hung up). */
export async function removeParticipant(serverUrl: string, token: string, sipCallId: string, extension: string, options: ClientOptions = {}): Promise<void> {
  await callCommand(
    serverUrl,
    token,
    { method: 'DELETE', path: participantPath(sipCallId, extension), doing: 'remove them from the call', failed: `${extension} could not be removed` },
    options,
  );
}

interface CallCommand {
  method: 'POST' | 'DELETE';
  /** Under API_PREFIX. */
  path: string;
  body?: unknown;
  /** What the person asked for, after "Can't reach the server at … to". */
  doing: string;
  /** The sentence when the PBX refuses without one of its own. */
  failed: string;
}

/** One REST command on a call (transfer, merge, remove): resolves on 2xx, else throws a RequestError saying why. */
async function callCommand(serverUrl: string, token: string, command: CallCommand, options: ClientOptions): Promise<void> {
  const base = normalizeServerUrl(serverUrl);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await fetchImpl(`${base}${API_PREFIX}${command.path}`, {
      method: command.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(command.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(command.body === undefined ? {} : { body: JSON.stringify(command.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('call command failed', { doing: command.doing, error: error instanceof Error ? error.message : String(error) });
    throw new RequestError(`Can't reach the server at ${base} to ${command.doing}.`);
  }
  if (response.ok) return;
  const body = await readJson(response);
  if (response.status === 401) throw new RequestError('Your session has ended. Sign in again.', true);
  const problem = ApiError.safeParse(body);
  log.warn('call command refused', { doing: command.doing, status: response.status, code: problem.success ? problem.data.error.code : undefined });
  throw new RequestError(sentence(problem.success ? problem.data.error.message : undefined) ?? `${command.failed} (error ${response.status}).`);
}

/** Ends the session on the PBX, which also revokes the device's SIP password. Best effort: signing out never waits on it. */
export async function endSession(serverUrl: string, token: string, options: ClientOptions = {}): Promise<void> {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  try {
    await fetchImpl(`${normalizeServerUrl(serverUrl)}${API_PREFIX}/session`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      keepalive: true,
    });
  } catch (error) {
    log.warn('could not end the session on the server', { error: error instanceof Error ? error.message : String(error) });
  }
}
