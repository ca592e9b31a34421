/**
 * Tells each signed-in app of its user's calls: every change of a user's line in a call (call-engine.ts
 * `callStateChanged`) becomes a `call` event on that user's live stream (shared/events.ts, server/events).
 * The event names the PBX's call id, which the app's REST commands use, and the SIP Call-ID of the user's own
 * leg, which is the app's JsSIP session's when the leg is the app's.
 *
 * A notice (`callNotice`: a transfer that failed once under way) is a `call` event with its `reason`.
 *
 * Only users with an app signed in are told (store/sessions.ts findAppUser, kept in memory): a desk phone's
 * calls cost no write to a stream nobody reads. Changes are published in the order they happened.
 */
import type { CallEvent, CallEventState } from '../../shared/events';
import type { EventPublisher } from '../events/event-hub';
import { createLogger } from '../log';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { findAppUser, recallAppUser } from '../store/sessions';
import type { CallEngineEvents, CallStateChangedEvent, LineState } from './call';
import type { TypedEmitter } from '../util/typed-emitter';

const log = createLogger('call-feed');

const STATES: Record<LineState, CallEventState> = {
  trying: 'ringing',
  early: 'ringing',
  confirmed: 'answered',
  terminated: 'ended',
};

/** The `call` event for one line's change, as its user's app is to see it. */
export function callEventFor(change: CallStateChangedEvent): CallEvent {
  const own = { extension: change.extension, name: change.displayName, role: change.direction === 'initiator' ? 'caller' : 'callee' } as const;
  const parties: CallEvent['parties'] = [own];
  if (change.remote) parties.push({ extension: change.remote.extension, name: change.remote.displayName, role: change.direction === 'initiator' ? 'callee' : 'caller' });
  const held = change.state === 'confirmed' && change.heldBy !== undefined;
  return {
    type: 'call',
    callId: change.callId,
    state: held ? 'held' : STATES[change.state],
    parties,
    leg: change.dialog ? { id: change.dialog.callId, sipCallId: change.dialog.callId } : null,
    ...(held && change.heldBy ? { heldBy: { extension: change.heldBy.extension, name: change.heldBy.displayName } } : {}),
  };
}

export class CallFeed {
  /** The change being published: the next waits for it, so a stream sees a line's changes in order. */
  private tail: Promise<void> = Promise.resolve();
  private readonly off: () => void;

  constructor(
    private readonly db: Kysely<Database>,
    engine: TypedEmitter<CallEngineEvents>,
    private readonly events: EventPublisher,
  ) {
    const offChanges = engine.on('callStateChanged', (change) => this.queue(change));
    const offNotices = engine.on('callNotice', (notice) => this.queue(notice, notice.reason));
    this.off = () => {
      offChanges();
      offNotices();
    };
  }

  private queue(change: CallStateChangedEvent, reason?: string): void {
    // A user known to have no app signed in costs nothing more: most calls of a desk-phone site.
    if (recallAppUser(this.db, change.organizationId, change.extension) === 'none') return;
    this.tail = this.tail.then(() => this.publish(change, reason)).catch((error: unknown) => log.warn('could not tell an app of a call', { call: change.callId, error }));
  }

  /** Resolves once every change so far has been published. */
  settled(): Promise<void> {
    return this.tail;
  }

  close(): void {
    this.off();
  }

  private async publish(change: CallStateChangedEvent, reason?: string): Promise<void> {
    const userId = await findAppUser(this.db, change.organizationId, change.extension);
    if (userId === undefined) return;
    await this.events.publish(change.organizationId, [userId], { ...callEventFor(change), ...(reason ? { reason } : {}) });
  }
}
