/**
 * `GET /events`, a WebSocket: the signed-in user's live event stream (shared/events.ts), from the hub in
 * server/events. Authenticated before the upgrade like every API call, by bearer token: in the Authorization
 * header, or, from a browser, which cannot set one on a WebSocket, as the subprotocol `offhook-bearer.<token>`
 * next to `offhook-events.v1`. No session, no upgrade (401). The stream is the caller's own and nobody
 * else's: the organization and user come from the session alone, never from the request.
 *
 * What one stream may hold of the PBX: a place among a few per user (429 past it), a send queue of bounded
 * size (an app that does not read is cut off, not buffered for), and its session, checked again at every
 * heartbeat, so that signing out or a password change (which ends the user's sessions) ends the stream too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { EVENTS_CLOSE, EVENTS_HEARTBEAT_S, EVENTS_TOKEN_PROTOCOL_PREFIX, EventsQuery } from '../../../shared/events';
import type { ServerMessage } from '../../../shared/events';
import type { EventHub, EventStream } from '../../events/event-hub';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { findSessionByToken } from '../../store/sessions';
import { HttpError, validationError } from '../errors';

const log = createLogger('events-ws');

export interface EventStreamLimits {
  /** Streams one user may have open at once: one per signed-in app, with room for a few devices. */
  maxStreamsPerUser: number;
  /** Bytes a stream's socket may hold unsent; past it the app is taken for stalled and cut off. */
  maxQueuedBytes: number;
  /** Between heartbeats: a message to the app, a ping it must answer by the next one, and the session checked. */
  heartbeatMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  maxStreamsPerUser: 8,
  // A full replay of a user's kept events (a thousand, a few hundred bytes each) fits with room to spare.
  maxQueuedBytes: 1024 * 1024,
  heartbeatMs: EVENTS_HEARTBEAT_S * 1000,
};

export interface EventRouteOptions {
  db: Kysely<Database>;
  hub: EventHub;
  limits?: EventStreamLimits;
}

interface Caller {
  token: string;
  organizationId: number;
  userId: number;
  after: number | undefined;
}

/** The bearer token from the Authorization header, else from an offered subprotocol. */
function streamToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer) return bearer;
  const offered = request.headers['sec-websocket-protocol'];
  for (const protocol of (offered ?? '').split(',')) {
    const name = protocol.trim();
    if (name.startsWith(EVENTS_TOKEN_PROTOCOL_PREFIX) && name.length > EVENTS_TOKEN_PROTOCOL_PREFIX.length) return name.slice(EVENTS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

export async function registerEventRoutes(api: FastifyInstance, options: EventRouteOptions): Promise<void> {
  const { db, hub } = options;
  const limits = options.limits ?? DEFAULT_EVENT_STREAM_LIMITS;
  const callers = new WeakMap<FastifyRequest, Caller>();
  const sockets = new Set<WebSocket>();
  api.addHook('onClose', async () => {
    for (const socket of sockets) socket.close(EVENTS_CLOSE.goingAway, 'the PBX is shutting down');
  });

  api.route({
    method: 'GET',
    url: '/events',
    // Runs before the upgrade: an error here is an HTTP answer and the socket is never opened.
    preValidation: async (request) => {
      const token = streamToken(request);
      const found = token ? await findSessionByToken(db, token) : undefined;
      if (!token || !found) throw new HttpError(401, 'not_signed_in', 'Sign in to continue.');
      const query = EventsQuery.safeParse(request.query ?? {});
      if (!query.success) throw validationError(query.error);
      // Counted once open: two apps upgrading in the same instant may both pass, which the HTTP quota still bounds.
      if (hub.openStreams(found.user.id) >= limits.maxStreamsPerUser) {
        throw new HttpError(429, 'too_many_streams', 'Too many apps are signed in as this user. Sign out of one and try again.', undefined, { 'Retry-After': '30' });
      }
      if (query.data.user !== undefined && query.data.user !== found.user.id) {
        throw new HttpError(403, 'wrong_account', 'This stream belongs to another account. Sign in as that account.', 'user');
      }
      callers.set(request, { token, organizationId: found.user.organization_id, userId: found.user.id, after: query.data.after });
    },
    handler: async (_request, reply) => reply.code(426).header('Upgrade', 'websocket').send(new HttpError(426, 'upgrade_required', 'Open this as a WebSocket.').toBody()),
    wsHandler: (socket, request) => {
      const caller = callers.get(request);
      if (!caller) return socket.close(EVENTS_CLOSE.signedOut, 'not signed in');
      sockets.add(socket);
      serve(socket, caller);
    },
  });

  function serve(socket: WebSocket, caller: Caller): void {
    log.debug('stream opened', { userId: caller.userId, after: caller.after });
    let answered = true;
    let ended = false;
    // The hub may call `send` (and so `drop`) before `open` has resolved, during the replay.
    let opened: EventStream | undefined;
    let left = false;
    const leaveHub = () => {
      left = true;
      opened?.close();
    };
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      socket.close(code, reason);
    };
    /** Drops the connection without a closing handshake, which would only queue behind what is stuck. */
    const drop = () => {
      ended = true;
      socket.terminate();
      // At once, not on 'close': the stream must take no more events from here.
      leaveHub();
    };
    const send = (message: ServerMessage) => {
      if (ended || socket.readyState !== socket.OPEN) return;
      // The queue is the socket's own buffer: past the bound the app is not reading, and holding more for it
      // would let one stalled app take the PBX's memory. Cut off at once; it resumes by number when it is back.
      if (socket.bufferedAmount > limits.maxQueuedBytes) {
        log.info('stream cut off: the app is not reading', { userId: caller.userId, queued: socket.bufferedAmount });
        drop();
        return;
      }
      socket.send(JSON.stringify(message));
    };
    hub.open(caller.organizationId, caller.userId, caller.after, { send, abandon: (reason) => end(EVENTS_CLOSE.tooSlow, reason) }).then(
      (stream) => {
        opened = stream;
        if (left) stream.close();
      },
      (error: unknown) => {
        log.warn('could not open a stream', { userId: caller.userId, error: error instanceof Error ? error.message : String(error) });
        end(1011, 'the stream could not be read');
      },
    );

    const heartbeat = setInterval(() => {
      // RFC 6455 §5.5.2: a browser answers a ping by itself, so one unanswered since the last beat means the path is gone.
      if (!answered) {
        log.info('stream dropped: no answer to ping', { userId: caller.userId });
        drop();
        return;
      }
      answered = false;
      socket.ping();
      send({ kind: 'heartbeat' });
      void findSessionByToken(db, caller.token).then(
        (found) => {
          if (!found) end(EVENTS_CLOSE.signedOut, 'signed out');
        },
        () => undefined,
      );
    }, limits.heartbeatMs);
    heartbeat.unref();
    socket.on('pong', () => (answered = true));
    socket.on('close', () => {
      ended = true;
      clearInterval(heartbeat);
      sockets.delete(socket);
      leaveHub();
      log.debug('stream closed', { userId: caller.userId });
    });
  }
}
