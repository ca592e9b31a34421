/**
 * Starts the whole PBX in this process: store (migrated, optionally seeded), SIP service, HTTP app.
 * Returned handle closes everything in order, hanging up calls first so nothing is lost.
 *
 * What a crash left is taken up first: the calls it cut off get their records (ended at the last heartbeat)
 * and, once the transports listen, a BYE to every leg still reachable; the registrations still running are
 * put back. Then a heartbeat records every few seconds that the PBX is alive.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { buildApp } from './api/app';
import { DEFAULT_MEDIA_TIMEOUT_S, DEFAULT_VOICEMAIL_MAX_MESSAGES, DEFAULT_VOICEMAIL_MAX_SECONDS } from './config';
import type { ServeConfig } from './config';
import { EventHub } from './events/event-hub';
import type { EventPublisher } from './events/event-hub';
import { createLogger } from './log';
import { nativeRelayStatus } from './media/native/rtp-socket';
import { CallFeed, hangUpCallsLeftByCrash } from './calls';
import type { StreamConnector } from './presence/registrar';
import { SipService } from './sip-service';
import type { SecurityOptions } from './sip/edge/security';
import { StreamTransport } from './sip/transport/stream-transport';
import { httpConnectionQuota } from './api/connection-limits';
import { resolveResourceLimits } from './resource-limits';
import type { ResourceLimits } from './resource-limits';
import { ConnectionQuota } from './util/connection-quota';
import { loadTlsCredentials } from './util/tls-credentials';
import { UdpTransport } from './sip/transport/udp-transport';
import { closeCallsLeftByCrash } from './store/active-calls';
import { closeDatabase, openDatabase } from './store/db';
import { seedDemo } from './store/demo';
import { DEFAULT_HEARTBEAT_S, Heartbeat } from './store/heartbeat';
import { migrateToLatest } from './store/migrate';
import { loadRegistrations, RegistrationWriter } from './store/registrations';
import type { Database } from './store/schema';
import { startSessionPurge } from './store/session-purge';
import { PBX_VERSION } from './version';
import { MailboxMenuService, Mailboxes, removeOrphanMessageFiles, StoredMailbox, VoicemailDeposits } from './features/voicemail';
import { CallScreener } from './features/screening';
import { removeOrphanGreetingFiles } from './features/greetings';
import { chooseEngine, createTranscriber } from './features/transcription';

const log = createLogger('pbx');

/**
 * How long a shutdown waits for the far ends to answer its BYEs: over UDP, Timer E resends at 0.5, 1.5 and
 * 3.5 s, so a phone that lost one or two copies still hears it.
 */
const SHUTDOWN_GRACE_MS = 4_000;

/** Ports the SIP transports are bound to; a transport that is off has none. */
export interface SipPorts {
  udp?: number;
  tcp?: number;
  tls?: number;
}

export interface RunningPbx {
  httpUrl: string;
  sipWebSocketUrl: string;
  /** The web phone over HTTPS and SIP over secure WebSocket, when --https-port is on. */
  httpsUrl?: string;
  sipSecureWebSocketUrl?: string;
  sipPorts: SipPorts;
  /** Where the TLS certificate came from, when TLS runs. */
  tlsCertificate?: string;
  /** The resource limits in force (resource-limits.ts), for printing. */
  limits: ResourceLimits;
  db: Kysely<Database>;
  sip: SipService;
  /** The apps' live event streams (server/events): what the call layer and features publish through. */
  events: EventPublisher;
  /** Users' mailboxes (features/voicemail): what REST and the phone menu change them through. */
  voicemail: Mailboxes;
  /** The data folder, under which voicemail files lie. */
  voicemailDataDir: string;
  close(): Promise<void>;
}

/** Settings not on serve's command line (config.ts has the rest), for tests and benchmarks. */
export interface InternalSettings {
  /** Milliseconds between purges of expired sessions (store/session-purge.ts); default hourly. */
  sessionPurgeIntervalMs?: number;
  /** Milliseconds a REGISTER's 200, or an answered call's, waits for others to share its transaction. Default 5. */
  commitWindowMs?: number;
}

export async function startPbx(config: ServeConfig & InternalSettings): Promise<RunningPbx> {
  // First, before anything takes a descriptor: the open-file limit raised, and the caps it leaves room for.
  const limits = resolveResourceLimits(config);
  // TCP and TLS draw on one pool of descriptors, as do HTTP and HTTPS: one quota each.
  const sipConnections = new ConnectionQuota('SIP TCP/TLS', limits.sipConnections);
  const httpConnections = { limits: limits.http, quota: httpConnectionQuota(limits.http) };
  // Asked for by name and unable to run (pocketsphinx missing, a hosted URL without its key): refused before anything opens.
  const transcription = chooseEngine({ mode: config.transcription, url: config.transcriptionUrl, key: config.transcriptionKey });
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'offhook.db'));
  await migrateToLatest(db);
  if (config.demo) await seedDemo(db);
  // A message file no row names was left by a stop between writing it and storing its row: nothing acknowledged it.
  await removeOrphanMessageFiles(db, config.dataDir);
  // Likewise a greeting upload cut off before its row was stored (or its file finished).
  await removeOrphanGreetingFiles(db, config.dataDir);
  // What the last run left, read before anything can add to it and before the heartbeat moves: the calls a
  // crash cut off (recorded as ended now) and the registrations still running.
  const crashedCalls = await closeCallsLeftByCrash(db, new Date());
  const storedRegistrations = await loadRegistrations(db, new Date());

  const sip = new SipService({
    db,
    media: { address: config.mediaAddress, portRange: config.mediaPortRange },
    host: config.sipHost,
    userAgent: `Offhook PBX ${PBX_VERSION}`,
    security: securityOptions(config),
    mediaTimeoutMs: (config.mediaTimeoutS ?? DEFAULT_MEDIA_TIMEOUT_S) * 1000,
    limits: limits.sipHeldBytes,
  });
  const transports: Array<UdpTransport | StreamTransport> = [];
  const sipPorts: SipPorts = {};
  const streams: Partial<Record<'TCP' | 'TLS', StreamTransport>> = {};
  const connector: StreamConnector = async (transport, host, port, timeoutMs) => {
    const stream = streams[transport];
    if (!stream) throw new Error(`SIP over ${transport} is off`);
    return stream.connect(host, port, timeoutMs);
  };
  sip.registrar.setStreamConnector(connector);
  sip.endpoint.setStreamConnector(connector);
  const registrations = new RegistrationWriter(db, { windowMs: config.commitWindowMs });
  sip.registrar.setStore(registrations);
  if (config.commitWindowMs !== undefined) sip.calls.answerCommitMs = config.commitWindowMs;
  let udpTransport: UdpTransport | undefined;
  // A UDP device is reached where its REGISTER or its calls came from, on the port it knew us by.
  const udpFlow = (address: string, port: number) => udpTransport?.flowTo(address, port);
  let tlsCertificate: string | undefined;
  try {
    if (config.sipUdpPort !== undefined) {
      const udp = await UdpTransport.listen({ host: config.bind, port: config.sipUdpPort, endpoint: sip.endpoint });
      transports.push(udp);
      udpTransport = udp;
      sipPorts.udp = udp.port;
      sip.endpoint.setListeningPort('UDP', udp.port);
    }
    // Put back before the first request can be read (no datagram is handled before this synchronous step),
    // so that an unregistration arriving at start is applied to the restored binding, not undone by it.
    sip.registrar.restore(storedRegistrations, udpFlow);
    if (config.sipTcpPort !== undefined) {
      const tcp = await StreamTransport.listen({ transport: 'TCP', host: config.bind, port: config.sipTcpPort, endpoint: sip.endpoint, quota: sipConnections });
      transports.push(tcp);
      streams.TCP = tcp;
      sipPorts.tcp = tcp.port;
      sip.endpoint.setListeningPort('TCP', tcp.port);
    }
    if (config.sipTlsPort !== undefined) {
      const credentials = await loadTlsCredentials({
        certFile: config.tlsCert,
        keyFile: config.tlsKey,
        dataDir: config.dataDir,
        demo: config.demo,
        host: config.sipHost,
      });
      if (credentials) {
        const tls = await StreamTransport.listen({
          transport: 'TLS',
          host: config.bind,
          port: config.sipTlsPort,
          endpoint: sip.endpoint,
          tls: credentials,
          quota: sipConnections,
          handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
        });
        transports.push(tls);
        streams.TLS = tls;
        sipPorts.tls = tls.port;
        tlsCertificate = credentials.source;
        sip.endpoint.setListeningPort('TLS', tls.port);
      } else {
        log.warn('SIP over TLS is off: give --tls-cert and --tls-key (or run with --demo for a self-signed pair)');
      }
    }
  } catch (error) {
    sip.shutdown();
    await Promise.all(transports.map((t) => t.close()));
    await closeDatabase(db);
    throw new Error(`could not open the SIP transports: ${describeListenError(error)}`, { cause: error });
  }
  void hangUpCallsLeftByCrash(crashedCalls, sip.endpoint, { udpFlow, connect: connector });
  const heartbeat = await Heartbeat.start(db, { intervalMs: (config.heartbeatS ?? DEFAULT_HEARTBEAT_S) * 1000, onBeat: () => sip.calls.storeChangedLegs() });

  // Stored events outlive a restart; what retention no longer keeps is purged now and then periodically.
  const events = new EventHub(db);
  await events.startRetention();
  // Each signed-in app hears of its user's calls (call ids for its REST commands) on that stream.
  const callFeed = new CallFeed(db, sip.calls, events);
  // Users' mailboxes: changes reach their apps (events) and the desk phones watching the lamp (subscriptions).
  // Messages are transcribed in the background; a finished transcript reaches the owner's apps as `updated`.
  const transcriber = createTranscriber({
    db,
    dataDir: config.dataDir,
    engine: transcription.engine,
    onTranscribed: (voicemailId, owner) => void voicemail.announceTranscribed(voicemailId, owner),
  });
  const voicemail = new Mailboxes({ db, dataDir: config.dataDir, events, watchers: sip.subscriptions, transcripts: transcriber });
  await transcriber.start();
  // Calls the PBX answers itself: a message taken for a user (greeting, tone, recording), the *97 menu, a caller
  // screened (asked their name before the user's phones ring).
  const deposits = new VoicemailDeposits({
    db,
    mailboxes: voicemail,
    player: sip.calls.player,
    transcription: transcriber,
    limits: {
      maxMessageMs: (config.voicemailMaxSeconds ?? DEFAULT_VOICEMAIL_MAX_SECONDS) * 1000,
      maxMessages: config.voicemailMaxMessages ?? DEFAULT_VOICEMAIL_MAX_MESSAGES,
    },
  });
  // PIN guesses at the *97 menu count in the limiter that SIP digest and sign-in share.
  const mailboxMenu = new MailboxMenuService({ player: sip.calls.player, mailbox: new StoredMailbox(db, voicemail), attempts: sip.security.attempts });
  const screener = new CallScreener({ player: sip.calls.player });
  sip.calls.services = {
    voicemail: (call, mailbox, reason) => void deposits.take(call, mailbox, reason),
    mailboxMenu: (call, user) => void mailboxMenu.start(call, user),
    screen: (call) => screener.screen(call),
  };

  const app = await buildApp({ db, version: PBX_VERSION, sip, events, transfers: sip.transfers, conferences: sip.conferences, voicemail, webRoot: config.webRoot, listOrganizationsAtSignIn: config.listOrganizationsAtSignIn, connections: httpConnections, dataDir: config.dataDir });
  await app.listen({ port: config.httpPort, host: config.bind });

  // Browsers give the microphone only to secure pages: http://127.0.0.1 counts, a LAN address does not, so
  // phones on other computers need the web phone over HTTPS (and SIP over WSS).
  let secureApp: Awaited<ReturnType<typeof buildApp>> | undefined;
  let securePort: number | undefined;
  if (config.httpsPort !== undefined) {
    const credentials = await loadTlsCredentials({ certFile: config.tlsCert, keyFile: config.tlsKey, dataDir: config.dataDir, demo: config.demo, host: config.sipHost });
    if (credentials) {
      secureApp = await buildApp({
        db,
        version: PBX_VERSION,
        sip,
        events,
        transfers: sip.transfers,
        conferences: sip.conferences,
        voicemail,
        webRoot: config.webRoot,
        https: credentials,
        listOrganizationsAtSignIn: config.listOrganizationsAtSignIn,
        connections: httpConnections,
        dataDir: config.dataDir,
      });
      await secureApp.listen({ port: config.httpsPort, host: config.bind });
      const secureAddress = secureApp.server.address();
      securePort = typeof secureAddress === 'object' && secureAddress ? secureAddress.port : config.httpsPort;
      tlsCertificate ??= credentials.source;
    } else {
      log.warn('HTTPS is off: give --tls-cert and --tls-key (or run with --demo for a self-signed pair)');
    }
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? config.mediaAddress : config.bind;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${hostPart}:${port}`;
  log.info('listening', { httpUrl });
  // Whether desk phones' RTP is relayed in C or through Node's sockets, and why.
  log.info('rtp relay', nativeRelayStatus());

  const sessionPurge = await startSessionPurge(db, { intervalMs: config.sessionPurgeIntervalMs });

  let closed = false;
  return {
    httpUrl,
    sipWebSocketUrl: `ws://${hostPart}:${port}/sip`,
    ...(securePort !== undefined ? { httpsUrl: `https://${hostPart}:${securePort}`, sipSecureWebSocketUrl: `wss://${hostPart}:${securePort}/sip` } : {}),
    sipPorts,
    tlsCertificate,
    limits,
    db,
    sip,
    events,
    voicemail,
    voicemailDataDir: config.dataDir,
    async close() {
      if (closed) return;
      closed = true;
      sip.shutdown();
      // The BYEs (and final NOTIFYs) are answered, or resent over UDP until the grace runs out, before the sockets go.
      await sip.endpoint.settled(SHUTDOWN_GRACE_MS);
      await sip.calls.flushRecords();
      // Messages being left when their calls were hung up are stored (and announced) before the store closes.
      await deposits.settled();
      // Saves and deletes keyed at the *97 menu before its calls ended reach the store too.
      await mailboxMenu.settled();
      await transcriber.close();
      sip.endpoint.faults.report();
      await registrations.flush();
      await heartbeat.stop();
      await Promise.all(transports.map((t) => t.close()));
      await app.close();
      await secureApp?.close();
      callFeed.close();
      await callFeed.settled();
      await events.close();
      await sessionPurge.stop();
      await closeDatabase(db);
    },
  };
}

/** The security layer's options that serve sets (config.ts); each left out keeps its default. */
function securityOptions(config: ServeConfig): Partial<SecurityOptions> {
  const options: Partial<SecurityOptions> = { trustedSources: config.sipTrustedSources ?? [] };
  if (config.sipRequestsPerSecond !== undefined) options.requestsPerSecond = config.sipRequestsPerSecond;
  if (config.sipRequestBurst !== undefined) options.requestBurst = config.sipRequestBurst;
  if (config.authFailuresBeforeBan !== undefined) options.authFailuresBeforeBan = config.authFailuresBeforeBan;
  if (config.authSprayAccountsBeforeBan !== undefined) options.sprayAccountsBeforeBan = config.authSprayAccountsBeforeBan;
  if (config.authBanS !== undefined) options.banMs = config.authBanS * 1000;
  if (config.accountFreeFailures !== undefined) options.accountFreeFailures = config.accountFreeFailures;
  if (config.accountDelayMaxS !== undefined) options.accountDelayMaxMs = config.accountDelayMaxS * 1000;
  return options;
}

/** A port already taken is the usual reason a transport cannot open: say which, and what to do about it. */
function describeListenError(error: unknown): string {
  const detail = error as { code?: string; port?: number; address?: string; message?: string };
  if (detail.code === 'EADDRINUSE') {
    return `${detail.address ?? 'the address'} port ${detail.port ?? '?'} is already in use by another program; choose other ports with --sip-udp-port, --sip-tcp-port and --sip-tls-port (0 picks a free one) or turn a transport off with "off"`;
  }
  return error instanceof Error ? error.message : String(error);
}
