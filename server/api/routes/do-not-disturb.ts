/**
 * Do not disturb as a PBX setting (shared/do-not-disturb.ts): `GET|PUT /me/do-not-disturb`, the signed-in user's
 * own, and nobody else's. A change is stored first, then told to every app of the user's (`do-not-disturb`
 * event); calls read the stored setting (routing/answering-planner.ts), so the next call follows it.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { API_PREFIX } from '../../../shared/api';
import { DO_NOT_DISTURB_PATH, DoNotDisturb } from '../../../shared/do-not-disturb';
import type { DoNotDisturbEvent } from '../../../shared/do-not-disturb';
import type { EventPublisher } from '../../events/event-hub';
import { createLogger } from '../../log';
import { getDoNotDisturb, setDoNotDisturb } from '../../store/do-not-disturb';
import type { Database } from '../../store/schema';
import { validationError } from '../errors';
import { requireSession } from './session';

const log = createLogger('do-not-disturb');

const PATH = DO_NOT_DISTURB_PATH.slice(API_PREFIX.length);

export async function registerDoNotDisturbRoutes(api: FastifyInstance, options: { db: Kysely<Database>; events: EventPublisher }): Promise<void> {
  const { db, events } = options;

  api.get(PATH, async (request) => {
    const { user } = await requireSession(db, request);
    const body: DoNotDisturb = { enabled: await getDoNotDisturb(db, { organizationId: user.organization_id, userId: user.id }) };
    return body;
  });

  api.put(PATH, async (request) => {
    const { user } = await requireSession(db, request);
    const parsed = DoNotDisturb.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    const { enabled } = parsed.data;
    await setDoNotDisturb(db, { organizationId: user.organization_id, userId: user.id }, enabled);
    log.info('do not disturb set', { userId: user.id, enabled });
    const event: DoNotDisturbEvent = { type: 'do-not-disturb', enabled };
    // Stored already: an app that misses the event reads the setting when it next asks.
    await events.publish(user.organization_id, [user.id], event).catch((error: unknown) => log.warn('could not tell the apps of do not disturb', { userId: user.id, error }));
    const body: DoNotDisturb = { enabled };
    return body;
  });
}
