/**
 * Starts the whole PBX in this process: store (migrated, optionally seeded), SIP service, HTTP app.
 * Returned handle closes everything in order, hanging up calls first so nothing is lost.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { buildApp } from './api/app';
import { DEFAULT_MEDIA_TIMEOUT_S } from './config';
import type { ServeConfig } from './config';
import { createLogger } from './log';
import { nativeRelayStatus } from './media/rtp-socket';
import type { StreamConnector } from './sip/registrar';
import { SipService } from './sip/sip-service';
import { StreamTransport } from './sip/stream-transport';
import { loadTlsCredentials } from './sip/tls-credentials';
import { UdpTransport } from './sip/udp-transport';
import { closeDatabase, openDatabase } from './store/db';
import { seedDemo } from './store/demo';
import { migrateToLatest } from './store/migrate';
import type { Database } from './store/schema';
import { PBX_VERSION } from './version';

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
  db: Kysely<Database>;
  sip: SipService;
  close(): Promise<void>;
}

export async function startPbx(config: ServeConfig): Promise<RunningPbx> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'offhook.db'));
  await migrateToLatest(db);
  if (config.demo) await seedDemo(db);

  const sip = new SipService({
    db,
    media: { address: config.mediaAddress, portRange: config.mediaPortRange },
    host: config.sipHost,
    userAgent: `Offhook PBX ${PBX_VERSION}`,
    security: { trustedSources: config.sipTrustedSources ?? [] },
    mediaTimeoutMs: (config.mediaTimeoutS ?? DEFAULT_MEDIA_TIMEOUT_S) * 1000,
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
  let tlsCertificate: string | undefined;
  try {
    if (config.sipUdpPort !== undefined) {
      const udp = await UdpTransport.listen({ host: config.bind, port: config.sipUdpPort, endpoint: sip.endpoint });
      transports.push(udp);
      sipPorts.udp = udp.port;
      sip.endpoint.setListeningPort('UDP', udp.port);
    }
    if (config.sipTcpPort !== undefined) {
      const tcp = await StreamTransport.listen({ transport: 'TCP', host: config.bind, port: config.sipTcpPort, endpoint: sip.endpoint });
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
        const tls = await StreamTransport.listen({ transport: 'TLS', host: config.bind, port: config.sipTlsPort, endpoint: sip.endpoint, tls: credentials });
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

  const app = await buildApp({ db, version: PBX_VERSION, sip, webRoot: config.webRoot });
  await app.listen({ port: config.httpPort, host: config.bind });

  // Browsers give the microphone only to secure pages: http://127.0.0.1 counts, a LAN address does not, so
  // phones on other computers need the web phone over HTTPS (and SIP over WSS).
  let secureApp: Awaited<ReturnType<typeof buildApp>> | undefined;
  let securePort: number | undefined;
  if (config.httpsPort !== undefined) {
    const credentials = await loadTlsCredentials({ certFile: config.tlsCert, keyFile: config.tlsKey, dataDir: config.dataDir, demo: config.demo, host: config.sipHost });
    if (credentials) {
      secureApp = await buildApp({ db, version: PBX_VERSION, sip, webRoot: config.webRoot, https: credentials });
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

  let closed = false;
  return {
    httpUrl,
    sipWebSocketUrl: `ws://${hostPart}:${port}/sip`,
    ...(securePort !== undefined ? { httpsUrl: `https://${hostPart}:${securePort}`, sipSecureWebSocketUrl: `wss://${hostPart}:${securePort}/sip` } : {}),
    sipPorts,
    tlsCertificate,
    db,
    sip,
    async close() {
      if (closed) return;
      closed = true;
      sip.shutdown();
      // The BYEs (and final NOTIFYs) are answered, or resent over UDP until the grace runs out, before the sockets go.
      await sip.endpoint.settled(SHUTDOWN_GRACE_MS);
      await sip.calls.flushRecords();
      await Promise.all(transports.map((t) => t.close()));
      await app.close();
      await secureApp?.close();
      await closeDatabase(db);
    },
  };
}

/** A port already taken is the usual reason a transport cannot open: say which, and what to do about it. */
function describeListenError(error: unknown): string {
  const detail = error as { code?: string; port?: number; address?: string; message?: string };
  if (detail.code === 'EADDRINUSE') {
    return `${detail.address ?? 'the address'} port ${detail.port ?? '?'} is already in use by another program; choose other ports with --sip-udp-port, --sip-tcp-port and --sip-tls-port (0 picks a free one) or turn a transport off with "off"`;
  }
  return error instanceof Error ? error.message : String(error);
}
