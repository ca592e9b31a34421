/**
 * The app's side of the answering-rules REST API (server/api/routes/answering-rules.ts, shapes in
 * shared/answering-rules.ts). Every answer is checked against the contract before the pane sees it, and every
 * refusal becomes a RulesApiError that keeps the server's sentence and the field it names, so the form can show
 * the sentence beside that field.
 */
import { z } from 'zod';
import { AnsweringRuleInput, RuleAction, TimeFrameSpec } from '../../../shared/answering-rules';
import type { AnsweringRule, AnsweringRuleList, RuleDecision, TimeFrame, TimeFrameList, TimeFrameUpdate } from '../../../shared/answering-rules';
import { API_PREFIX, ApiError } from '../../../shared/api';
import { createLogger } from '../../log';

const log = createLogger('answering-rules-api');

const TIMEOUT_MS = 15_000;

export interface RulesAccount {
  serverUrl: string;
  token: string;
  fetch?: typeof fetch;
}

/** A refusal or a failure, as a sentence for people; `field` is the request field at fault (`spec.ranges.0.end`). */
export class RulesApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RulesApiError';
  }

  /** 401: the session is over. */
  get signedOut(): boolean {
    return this.status === 401;
  }
}

const AnsweringRuleOut = AnsweringRuleInput.extend({ id: z.number().int() });
const TimeFrameOut = z.object({ id: z.number().int(), name: z.string(), scope: z.enum(['user', 'organization']), spec: TimeFrameSpec });
const RuleListOut = z.object({ rules: z.array(AnsweringRuleOut), activeRuleId: z.number().int().nullable(), timeZone: z.string() });
const FrameListOut = z.object({ timeFrames: z.array(TimeFrameOut) });
const DecisionOut = z.object({
  rule: z.object({ id: z.number().int(), name: z.string(), priority: z.number().int(), timeFrameId: z.number().int() }).nullable(),
  action: RuleAction,
  summary: z.string(),
  localTime: z.string(),
  timeZone: z.string(),
});

/** The server's sentence without the field name the validator puts in front ("spec.ranges.0.end: …"), capitalised. */
export function sentenceOf(message: string, field?: string): string {
  let text = message.trim();
  if (field && text.startsWith(`${field}: `)) text = text.slice(field.length + 2);
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

async function request<T>(account: RulesAccount, method: string, path: string, schema: z.ZodType<T> | undefined, body?: unknown): Promise<T> {
  const fetchImpl = account.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await fetchImpl(`${account.serverUrl}${API_PREFIX}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    log.warn('request failed', { method, path, error: error instanceof Error ? error.message : String(error) });
    throw new RulesApiError(`Can't reach the server at ${account.serverUrl}. Try again in a moment.`, 0, 'unreachable');
  }
  const text = await response.text().catch(() => '');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const problem = ApiError.safeParse(json);
    log.warn('request refused', { method, path, status: response.status, code: problem.success ? problem.data.error.code : undefined });
    if (response.status === 401) throw new RulesApiError('Your session has ended. Sign in again.', 401, 'unauthorized');
    if (problem.success) {
      const { code, message, field } = problem.data.error;
      throw new RulesApiError(sentenceOf(message, field), response.status, code, field);
    }
    throw new RulesApiError(`The server could not do that (error ${response.status}). Try again in a moment.`, response.status, 'failed');
  }
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    log.warn('answer does not match the contract', { method, path, issues: parsed.error.issues.length });
    throw new RulesApiError('The server sent an answer this app does not understand.', response.status, 'bad_answer');
  }
  return parsed.data;
}

export const listRules = (account: RulesAccount): Promise<AnsweringRuleList> => request(account, 'GET', '/answering-rules', RuleListOut);

export const listTimeFrames = (account: RulesAccount): Promise<TimeFrameList> => request(account, 'GET', '/time-frames', FrameListOut);

export const createRule = (account: RulesAccount, input: AnsweringRuleInput): Promise<AnsweringRule> =>
  request(account, 'POST', '/answering-rules', AnsweringRuleOut, input);

export const updateRule = (account: RulesAccount, id: number, input: AnsweringRuleInput): Promise<AnsweringRule> =>
  request(account, 'PUT', `/answering-rules/${id}`, AnsweringRuleOut, input);

export const deleteRule = (account: RulesAccount, id: number): Promise<void> => request(account, 'DELETE', `/answering-rules/${id}`, undefined);

/** Every rule's id, highest priority first: they become priorities 1, 2, 3… */
export const orderRules = (account: RulesAccount, ids: readonly number[]): Promise<{ rules: AnsweringRule[] }> =>
  request(account, 'PUT', '/answering-rules/order', z.object({ rules: z.array(AnsweringRuleOut) }), { ids });

/** A frame of the user's own, or with `organization` one shared by everyone in it (administrators only). */
export const createTimeFrame = (account: RulesAccount, input: TimeFrameUpdate, scope: TimeFrame['scope'] = 'user'): Promise<TimeFrame> =>
  request(account, 'POST', '/time-frames', TimeFrameOut, { ...input, scope });

export const updateTimeFrame = (account: RulesAccount, id: number, input: TimeFrameUpdate): Promise<TimeFrame> =>
  request(account, 'PUT', `/time-frames/${id}`, TimeFrameOut, input);

export const deleteTimeFrame = (account: RulesAccount, id: number): Promise<void> => request(account, 'DELETE', `/time-frames/${id}`, undefined);

/** Which rule applies at `at` (an instant) and what happens then. */
export const previewAt = (account: RulesAccount, at: Date): Promise<RuleDecision> =>
  request(account, 'GET', `/answering-rules/preview?at=${encodeURIComponent(at.toISOString())}`, DecisionOut);

/** Changes the zone the organization's frames are read in (administrators only; others are refused with 403). */
export const setTimeZone = (account: RulesAccount, timeZone: string): Promise<{ timeZone: string }> =>
  request(account, 'PUT', '/organization/time-zone', z.object({ timeZone: z.string() }), { timeZone });
