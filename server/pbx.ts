/**
 * Starts the whole PBX in this process: store (migrated, optionally seeded), SIP service, HTTP app.
 * Returned handle closes everything in order, hanging up calls first so nothing is lost.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { buildApp } from './api/app';
import type { ServeConfig } from './config';
import { createLogger } from './log';
import { SipService } from './sip/sip-service';
import { closeDatabase, openDatabase } from './store/db';
import { seedDemo } from './store/demo';
import { migrateToLatest } from './store/migrate';
import type { Database } from './store/schema';
import { PBX_VERSION } from './version';

const log = createLogger('pbx');

export interface RunningPbx {
  httpUrl: string;
  sipWebSocketUrl: string;
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
  });
  const app = await buildApp({ db, version: PBX_VERSION, sip, webRoot: config.webRoot });
  await app.listen({ port: config.httpPort, host: config.bind });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? config.mediaAddress : config.bind;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${hostPart}:${port}`;
  log.info('listening', { httpUrl });

  let closed = false;
  return {
    httpUrl,
    sipWebSocketUrl: `ws://${hostPart}:${port}/sip`,
    db,
    sip,
    async close() {
      if (closed) return;
      closed = true;
      sip.shutdown();
      // Give the BYEs a moment on the wire before the sockets go.
      await new Promise((r) => setTimeout(r, 100));
      await app.close();
      await closeDatabase(db);
    },
  };
}
