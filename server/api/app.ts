/**
 * The PBX's HTTP side, built apart from `listen()` so tests use `inject()` without a port: the REST API under
 * /api/v1, SIP over WebSocket at /sip, and the web phone at /.
 */
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { API_PREFIX, SIP_WS_PATH } from '../../shared/api';
import { CONTENT_SECURITY_POLICY } from '../../shared/content-security-policy';
import { EVENTS_PATH, EVENTS_PROTOCOL } from '../../shared/events';
import { AttemptLimiter } from '../auth/attempt-limiter';
import { sharedSignInGuard } from '../auth/sign-in-guard';
import type { SignInGuard } from '../auth/sign-in-guard';
import { EventHub } from '../events/event-hub';
import { createLogger } from '../log';
import type { Database } from '../store/schema';
import { DEFAULT_HTTP_LIMITS, fastifyTimeouts, httpConnectionQuota, limitConnections } from './connection-limits';
import type { HttpLimits } from './connection-limits';
import type { ConnectionQuota } from '../util/connection-quota';
import { HttpError } from './errors';
import { registerAnsweringRuleRoutes } from './routes/answering-rules';
import { registerDoNotDisturbRoutes } from './routes/do-not-disturb';
import type { RuleChange } from '../routing/answering-rule-book';
import { registerCallRoutes } from './routes/calls';
import { registerConferenceRoutes } from './routes/conference';
import type { ConferenceCommands } from '../features/conference';
import type { TransferCommands } from '../features/transfer';
import { registerDirectoryRoutes } from './routes/directory';
import { registerGreetingRoutes } from './routes/greetings';
import { registerEventRoutes } from './routes/events';
import type { EventStreamLimits } from './routes/events';
import { registerSessionRoutes } from './routes/session';
import { registerVoicemailRoutes } from './routes/voicemails';
import type { Mailboxes } from '../features/voicemail';

const log = createLogger('http');

/**
 * Headers on every API response, errors and 404s included: the body is JSON for programs, never a page, so
 * nothing may sniff it into one (nosniff), frame it, load anything for it or be told where it came from.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
};

/**
 * What the app needs of the SIP service (sip-service.ts implements it, pbx.ts hands it in): the front door of SIP
 * over WebSocket (RFC 7118) at /sip, and the attempt limiter that REST sign-in shares with the SIP edge. An
 * interface of the API's own, so that api/ never imports sip/.
 */
export interface SipOverWebSocket {
  readonly security: { readonly attempts: AttemptLimiter };
  /** A set of SIP WebSocket flows for one HTTP server, bounded as the SIP transports bound theirs. */
  openWebSocketFlows(): SipWebSocketFlows;
  /** Told of every change to answering rules, frames or time zone made through the API: calls follow at once. */
  answeringRulesChanged?(change: RuleChange): void;
}

export interface SipWebSocketFlows {
  /** Takes an upgraded socket as a SIP flow fed to the SIP endpoint, or closes it when over the limits; the flow's id when taken. */
  accept(socket: WebSocket, secure: boolean, remoteAddress: string, remotePort: number): string | undefined;
  closeAll(): void;
}

export interface AppOptions {
  db: Kysely<Database>;
  version: string;
  /** SIP service fed by the WebSocket transport; left out in tests of the REST API alone. */
  sip?: SipOverWebSocket;
  /** Folder holding the built web phone (dist/renderer). */
  webRoot?: string;
  sessionTtlMs?: number;
  /** Whether a sign-in that names no organization, on a PBX with several, is answered with the list of them (routes/session.ts). */
  listOrganizationsAtSignIn?: boolean;
  /** Certificate and key: the app serves HTTPS, and SIP at /sip over secure WebSocket. */
  https?: { cert: string; key: string };
  /**
   * Limits on sign-in (auth/sign-in-guard.ts). By default the SIP service's attempt limiter, so that SIP and REST
   * share one per-account count, with one password pool per limiter; without SIP, a limiter of its own.
   */
  signIn?: SignInGuard;
  /**
   * Connection limits and timeouts (connection-limits.ts), and the quota the PBX's HTTP and HTTPS servers
   * share; the defaults and a quota of this app's own when left out.
   */
  connections?: { limits: HttpLimits; quota: ConnectionQuota };
  /** The hub behind the apps' event streams (server/events); one of the app's own when left out (tests). */
  events?: EventHub;
  eventStreamLimits?: EventStreamLimits;
  /** Call transfer for the app (features/transfer), `POST /calls/:sipCallId/transfer`; answered 503 when left out. */
  transfers?: TransferCommands;
  /**
   * Conferences for the app (features/conference), `POST /calls/:sipCallId/merge` and
   * `DELETE /calls/:sipCallId/participants/:extension`; answered 503 when left out.
   */
  conferences?: ConferenceCommands;
  /** The users' mailboxes (features/voicemail), for `/voicemails` and `/voicemail/pin`; answered 503 when left out. */
  voicemail?: Mailboxes;
  /** The clock that says which answering rule is active now (routes/answering-rules.ts); Date.now when left out. */
  now?: () => number;
  /** The PBX's data folder, where greetings keep their audio (routes/greetings.ts); those routes answer 503 without it. */
  dataDir?: string;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const connections = options.connections ?? { limits: DEFAULT_HTTP_LIMITS, quota: httpConnectionQuota(DEFAULT_HTTP_LIMITS) };
  const common = { logger: false, bodyLimit: 64 * 1024, trustProxy: false, ...fastifyTimeouts(connections.limits) } as const;
  // The routes are the same over HTTP and HTTPS; only the server underneath differs, so one type serves both.
  const app: FastifyInstance = options.https
    ? (Fastify({
        ...common,
        https: { cert: options.https.cert, key: options.https.key, minVersion: 'TLSv1.2', handshakeTimeout: connections.limits.handshakeTimeoutMs },
      }) as unknown as FastifyInstance)
    : Fastify(common);
  limitConnections(app.server, connections.limits, connections.quota);

  // Bearer tokens, not cookies, authenticate API calls, so any origin (the desktop app loads from file://)
  // may call the API without exposing anything a page could ride on.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(API_PREFIX)) return;
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    reply.header('Cache-Control', 'no-store');
    if (request.method === 'OPTIONS') return reply.code(204).send();
  });
  // onSend, not onRequest: it runs for every response, those of the error and not-found handlers included.
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(API_PREFIX)) reply.headers(API_SECURITY_HEADERS);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) {
      if (error.headers) reply.headers(error.headers);
      return reply.code(error.statusCode).send(error.toBody());
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const message = status === 413 ? 'The request body is too large.' : status === 415 ? 'Send JSON (Content-Type: application/json).' : 'The request body is not valid JSON.';
      return reply.code(status).send(new HttpError(status, 'bad_request', message).toBody());
    }
    log.error('request failed', { method: request.method, url: request.url, error });
    return reply.code(500).send(new HttpError(500, 'internal', 'Something went wrong on the server. Try again.').toBody());
  });

  // One WebSocket server for SIP (/sip) and the event stream; the subprotocol is chosen by path.
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 64 * 1024,
      handleProtocols: (protocols: Set<string>, request: { url?: string }) => {
        if (request.url?.split('?')[0] === EVENTS_PATH) return protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false;
        // RFC 7118 §4.1: the client asks for the "sip" subprotocol and the server must agree to it.
        return protocols.has('sip') ? 'sip' : false;
      },
    },
  });
  const events = options.events ?? new EventHub(options.db);
  if (!options.events) app.addHook('onClose', async () => events.close());

  app.get(`${API_PREFIX}/health`, async () => ({ status: 'ok' as const, version: options.version }));
  await app.register(
    async (api) => {
      await registerSessionRoutes(api, {
        db: options.db,
        ttlMs: options.sessionTtlMs,
        listOrganizations: options.listOrganizationsAtSignIn,
        signIn: options.signIn ?? sharedSignInGuard(options.sip?.security.attempts ?? new AttemptLimiter()),
      });
      await registerCallRoutes(api, { db: options.db, transfers: options.transfers });
      await registerConferenceRoutes(api, { db: options.db, conferences: options.conferences });
      await registerDirectoryRoutes(api, { db: options.db });
      await registerAnsweringRuleRoutes(api, { db: options.db, now: options.now, onChange: (change) => options.sip?.answeringRulesChanged?.(change), events });
      await registerDoNotDisturbRoutes(api, { db: options.db, events });
      await registerGreetingRoutes(api, { db: options.db, dataDir: options.dataDir });
      await registerVoicemailRoutes(api, { db: options.db, mailboxes: options.voicemail });
      await registerEventRoutes(api, { db: options.db, hub: events, limits: options.eventStreamLimits });
    },
    { prefix: API_PREFIX },
  );

  if (options.sip) await registerSipWebSocket(app, options.sip);

  if (options.webRoot && existsSync(options.webRoot)) {
    await app.register(fastifyStatic, {
      root: options.webRoot,
      index: ['index.html'],
      wildcard: false,
      setHeaders: (res) => {
        res.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        res.header('X-Content-Type-Options', 'nosniff');
        res.header('Referrer-Policy', 'no-referrer');
      },
    });
  } else {
    app.get('/', async (_request, reply) =>
      reply.code(503).type('text/plain').send('The web phone has not been built yet. Run `npm run build`, then reload.'),
    );
  }

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(new HttpError(404, 'not_found', `There is nothing at ${request.method} ${request.url.split('?')[0]}.`).toBody());
  });
  return app;
}

async function registerSipWebSocket(app: FastifyInstance, sip: SipOverWebSocket): Promise<void> {
  const flows = sip.openWebSocketFlows();
  app.addHook('onClose', async () => flows.closeAll());
  app.get(SIP_WS_PATH, { websocket: true }, (socket, request: FastifyRequest) => {
    const remote = request.socket.remoteAddress ?? '';
    const connection = flows.accept(socket, request.protocol === 'https', remote, request.socket.remotePort ?? 0);
    if (connection) log.debug('sip websocket opened', { connection, remote });
  });
}
