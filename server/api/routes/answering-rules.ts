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
 *
 * Each stored change is told to the SIP service (`onChange`, which drops the compiled rules it made stale) and,
 * before the request is answered, to the apps it concerns as the `answering-rules` event, so a pane open on
 * another device reads the list again: the user's own for their rules and frames, every user of the
 * organization for its frames and time zone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { AnsweringRuleInput, PreviewQuery, RuleOrderInput, TimeFrameInput, TimeFrameUpdate, TimeZoneInput } from '../../../shared/answering-rules';
import type { AnsweringRuleList, AnsweringRulesEvent, TimeFrameList } from '../../../shared/answering-rules';
import type { EventPublisher } from '../../events/event-hub';
import { createLogger } from '../../log';
import { AnsweringRuleBook, RuleBookError } from '../../routing/answering-rule-book';
import type { RuleActor, RuleBookErrorKind, RuleChange } from '../../routing/answering-rule-book';
import type { Database } from '../../store/schema';
import { listUsers } from '../../store/users';
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

export interface AnsweringRuleRouteOptions {
  db: Kysely<Database>;
  now?: () => number;
  /** Told of each stored change at once: calls read compiled rules (routing/answering-planner.ts). */
  onChange?: (change: RuleChange) => void;
  /** The apps' event stream; without it no app is told. */
  events?: EventPublisher;
}

export async function registerAnsweringRuleRoutes(api: FastifyInstance, options: AnsweringRuleRouteOptions): Promise<void> {
  const { db, events } = options;
  const now = options.now ?? Date.now;
  // Reads only: each change has a book of its own (`changing`).
  const reader = new AnsweringRuleBook(db, now);

  /** Tells the apps of the users `change` concerns; stored already, so a failure is logged, not the request's. */
  const announce = async (change: RuleChange): Promise<void> => {
    if (!events) return;
    const event: AnsweringRulesEvent = { type: 'answering-rules' };
    try {
      const audience = change.userId !== undefined ? [change.userId] : (await listUsers(db, change.organizationId)).map((user) => user.id);
      await events.publish(change.organizationId, audience, event);
    } catch (error) {
      log.warn('could not tell the apps of changed answering rules', { organizationId: change.organizationId, userId: change.userId, error });
    }
  };

  /**
   * Runs one change with a book of its own, collecting what it changed, and tells the apps before the request is
   * answered (a book holds no state but its database, so one a request costs nothing).
   */
  const changing = async <T>(work: (book: AnsweringRuleBook) => Promise<T>): Promise<T> => {
    const changes: RuleChange[] = [];
    const own = new AnsweringRuleBook(db, now, (change) => {
      options.onChange?.(change);
      changes.push(change);
    });
    try {
      return await answer(() => work(own));
    } finally {
      for (const change of changes) await announce(change);
    }
  };

  const actor = async (request: FastifyRequest): Promise<RuleActor> => {
    const { user } = await requireSession(db, request);
    return { organizationId: user.organization_id, userId: user.id, role: user.role };
  };

  api.get('/time-frames', async (request) => {
    const owner = await actor(request);
    const body: TimeFrameList = { timeFrames: await reader.listTimeFrames(owner) };
    return body;
  });

  api.post('/time-frames', async (request, reply) => {
    const owner = await actor(request);
    const input = parseInput(TimeFrameInput, request.body);
    log.debug('create time frame', { organizationId: owner.organizationId, scope: input.scope });
    return reply.code(201).send(await changing((book) => book.createTimeFrame(owner, input)));
  });

  api.put('/time-frames/:id', async (request) => {
    const owner = await actor(request);
    const id = idOf(request);
    const input = parseInput(TimeFrameUpdate, request.body);
    return changing((book) => book.updateTimeFrame(owner, id, input));
  });

  api.delete('/time-frames/:id', async (request, reply) => {
    const owner = await actor(request);
    const id = idOf(request);
    await changing((book) => book.deleteTimeFrame(owner, id));
    return reply.code(204).send();
  });

  api.get('/answering-rules', async (request) => {
    const owner = await actor(request);
    const compiled = await reader.compile(owner);
    const body: AnsweringRuleList = { rules: await reader.listRules(owner), activeRuleId: compiled.decide(now()).rule?.id ?? null, timeZone: compiled.timeZone };
    return body;
  });

  api.post('/answering-rules', async (request, reply) => {
    const owner = await actor(request);
    const input = parseInput(AnsweringRuleInput, request.body);
    return reply.code(201).send(await changing((book) => book.createRule(owner, input)));
  });

  api.put('/answering-rules/order', async (request) => {
    const owner = await actor(request);
    const { ids } = parseInput(RuleOrderInput, request.body);
    return { rules: await changing((book) => book.reorderRules(owner, ids)) };
  });

  api.get('/answering-rules/preview', async (request) => {
    const owner = await actor(request);
    const { at } = parseInput(PreviewQuery, request.query);
    return reader.decide(owner, Date.parse(at));
  });

  api.put('/answering-rules/:id', async (request) => {
    const owner = await actor(request);
    const id = idOf(request);
    const input = parseInput(AnsweringRuleInput, request.body);
    return changing((book) => book.updateRule(owner, id, input));
  });

  api.delete('/answering-rules/:id', async (request, reply) => {
    const owner = await actor(request);
    const id = idOf(request);
    await changing((book) => book.deleteRule(owner, id));
    return reply.code(204).send();
  });

  api.get('/organization/time-zone', async (request) => {
    const owner = await actor(request);
    return { timeZone: await reader.timeZone(owner.organizationId) };
  });

  api.put('/organization/time-zone', async (request) => {
    const owner = await actor(request);
    const { timeZone } = parseInput(TimeZoneInput, request.body);
    await changing((book) => book.setTimeZone(owner, timeZone));
    return { timeZone };
  });
}
