/**
 * The PBX in this process, as the interop tests need it: a temporary data folder, the demo organization,
 * media on 127.0.0.1, and every listener on an ephemeral port. Settings are built by the CLI's own parser
 * (`parseServeConfig`), so the tests ask for exactly what a person would type.
 *
 * It also says which pieces the PBX has, so a test that needs one that is not there yet is skipped with
 * the reason printed, rather than failing or passing by accident.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseServeConfig, SETTINGS } from '../../../server/config';
import { startPbx } from '../../../server/pbx';
import type { RunningPbx } from '../../../server/pbx';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../../../server/store/demo';
import type { SipTransport } from './sipp';

const ROOT = resolve(import.meta.dirname, '../../..');
export const DOMAIN = DEMO_ORGANIZATION.domain;

const knownFlags = new Set(Object.values(SETTINGS).map((s) => s.flag));
const transportFlag: Record<SipTransport, string> = { udp: '--sip-udp-port', tcp: '--sip-tcp-port' };

/** Why a SIP transport can't be tested yet, or undefined when the PBX has it. */
export function transportMissing(transport: SipTransport): string | undefined {
  return knownFlags.has(transportFlag[transport]) ? undefined : `the PBX has no ${transport.toUpperCase()} SIP transport yet (no ${transportFlag[transport]} option)`;
}

/** Why calls with plain RTP media can't be tested yet, or undefined. */
export function plainRtpMissing(): string | undefined {
  return existsSync(join(ROOT, 'server/media/legs/rtp-leg.ts')) ? undefined : 'the PBX has no plain RTP media legs yet (server/media/legs/rtp-leg.ts)';
}

export interface InteropPbx {
  pbx: RunningPbx;
  ports: Partial<Record<SipTransport | 'tls', number>>;
  close(): Promise<void>;
}

export async function startInteropPbx(webRoot?: string): Promise<InteropPbx> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-interop-'));
  const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir];
  for (const flag of ['--sip-udp-port', '--sip-tcp-port', '--sip-tls-port']) if (knownFlags.has(flag)) argv.push(flag, '0');
  const config = parseServeConfig(argv, {}, { webRoot: webRoot ?? join(dataDir, 'no-web-phone') });
  const pbx = await startPbx(config);
  const ports = pbx.sipPorts;
  return {
    pbx,
    ports,
    async close() {
      await pbx.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The password a desk phone registers with: the user's device SIP password where the PBX has them, else the
 * per-session SIP password the app gets when it signs in (which any SIP device may use as well).
 */
export async function sipPassword(pbx: RunningPbx, extension: string): Promise<string> {
  const demo = DEMO_USERS.find((u) => u.extension === extension) as { sipPassword?: string; password: string } | undefined;
  if (!demo) throw new Error(`${extension} is not a demo user`);
  if (demo.sipPassword) return demo.sipPassword;
  const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ extension, password: demo.password }),
  });
  if (response.status !== 201) throw new Error(`signing ${extension} in answered ${response.status}`);
  const body = (await response.json()) as { sip: { password: string } };
  return body.sip.password;
}
