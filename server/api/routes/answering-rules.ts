/**
 * Answering rules and time frames (issue #17), every query scoped to the signed-in user and their organization:
 *
 * - `GET|POST /time-frames`, `PUT|DELETE /time-frames/:id`: the user's frames and the organization's (admins
 *   change those);
 * - `GET|POST /answering-rules`, `PUT|DELETE /answering-rules/:id`, `PUT /answering-rules/order`: the user's
 *   rules, with the one active now;
 * - `GET /answering-rules/preview?at=<ISO time>`: which rule applies at any moment, and what happens;
 * - `GET|PUT /organization/time-zone`: the zone frames are read in (admins change it).
 *
 * A row of another user or organization answers 404, as one that does not exist.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { AnsweringRuleInput, PreviewQuery, RuleOrderInput, TimeFrameInput, TimeFrameUpdate, TimeZoneInput } from '../../../shared/answering-rules';
import type { AnsweringRuleList, TimeFrameList } from '../../../shared/answering-rules';
import { createLogger } from '../../log';
import { AnsweringRuleBook, RuleBookError } from '../../routing/answering-rule-book';
import type { RuleActor, RuleBookErrorKind, RuleChange } from '../../routing/answering-rule-book';
import type { Database } from '../../store/schema';
import { HttpError } from '../errors';
import { parseInput, pathId } from '../route-input';
import { requireSession } from './session';

const log = createLogger('answering-rules');

const STATUS: Record<RuleBookErrorKind, number> = { not_found: 404, priority_conflict: 409, in_use: 409, too_many: 400, forbidden: 403, invalid: 400 };

const idOf = (request: FastifyRequest): number => pathId(request, 'There is no such rule or time frame.');

/** The book's refusals as API errors; anything else is the server's own failure. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RuleBookError) throw new HttpError(STATUS[error.kind], error.kind, error.message, error.field);
    throw error;
  }
}

export async function registerAnsweringRuleRoutes(api: FastifyInstance, options: { db: Kysely<Database>; now?: () => number; onChange?: (change: RuleChange) => void }): Promise<void> {
  const { db } = options;
  const now = options.now ?? Date.now;
  // Calls read compiled rules (routing/answering-planner.ts); every change here tells them (onChange).
  const book = new AnsweringRuleBook(db, now, options.onChange);

  const actor = async (request: FastifyRequest): Promise<RuleActor> => {
    const { user } = await requireSession(db, request);
    return { organizationId: user.organization_id, userId: user.id, role: user.role };
  };

  api.get('/time-frames', async (request) => {
    const owner = await actor(request);
    const body: TimeFrameList = { timeFrames: await book.listTimeFrames(owner) };
    return body;
  });

  api.post('/time-frames', async (request, reply) => {
    const owner = await actor(request);
    const input = parseInput(TimeFrameInput, request.body);
    log.debug('create time frame', { organizationId: owner.organizationId, scope: input.scope });
    return reply.code(201).send(await answer(() => book.createTimeFrame(owner, input)));
  });

  api.put('/time-frames/:id', async (request) => {
    const owner = await actor(request);
    const id = idOf(request);
    const input = parseInput(TimeFrameUpdate, request.body);
    return answer(() => book.updateTimeFrame(owner, id, input));
  });

  api.delete('/time-frames/:id', async (request, reply) => {
    const owner = await actor(request);
    const id = idOf(request);
    await answer(() => book.deleteTimeFrame(owner, id));
    return reply.code(204).send();
  });

  api.get('/answering-rules', async (request) => {
    const owner = await actor(request);
    const compiled = await book.compile(owner);
    const body: AnsweringRuleList = { rules: await book.listRules(owner), activeRuleId: compiled.decide(now()).rule?.id ?? null, timeZone: compiled.timeZone };
    return body;
  });

  api.post('/answering-rules', async (request, reply) => {
    const owner = await actor(request);
    const input = parseInput(AnsweringRuleInput, request.body);
    return reply.code(201).send(await answer(() => book.createRule(owner, input)));
  });

  api.put('/answering-rules/order', async (request) => {
    const owner = await actor(request);
    const { ids } = parseInput(RuleOrderInput, request.body);
    return { rules: await answer(() => book.reorderRules(owner, ids)) };
  });

  api.get('/answering-rules/preview', async (request) => {
    const owner = await actor(request);
    const { at } = parseInput(PreviewQuery, request.query);
    return book.decide(owner, Date.parse(at));
  });

  api.put('/answering-rules/:id', async (request) => {
    const owner = await actor(request);
    const id = idOf(request);
    const input = parseInput(AnsweringRuleInput, request.body);
    return answer(() => book.updateRule(owner, id, input));
  });

  api.delete('/answering-rules/:id', async (request, reply) => {
    const owner = await actor(request);
    const id = idOf(request);
    await answer(() => book.deleteRule(owner, id));
    return reply.code(204).send();
  });

  api.get('/organization/time-zone', async (request) => {
    const owner = await actor(request);
    return { timeZone: await book.timeZone(owner.organizationId) };
  });

  api.put('/organization/time-zone', async (request) => {
    const owner = await actor(request);
    const { timeZone } = parseInput(TimeZoneInput, request.body);
    await answer(() => book.setTimeZone(owner, timeZone));
    return { timeZone };
  });
}
