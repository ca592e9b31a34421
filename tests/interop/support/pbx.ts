/**
 * The PBX in this process, as the interop tests need it: a temporary data folder, the demo organization,
 * media on 127.0.0.1, and every listener on an ephemeral port. Settings are built by the CLI's own parser
 * (`parseServeConfig`), so the tests ask for exactly what a person would type.
 *
 * It also says which pieces the PBX has, so a test that needs one that is not there yet is skipped with
 * the reason printed, rather than failing or passing by accident.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
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
  return existsSync(join(ROOT, 'server/media/rtp-leg.ts')) ? undefined : 'the PBX has no plain RTP media legs yet (server/media/rtp-leg.ts)';
}

/** Why hold by re-INVITE can't be tested yet, or undefined. */
export function reInviteMissing(): string | undefined {
  const engine = readFileSync(join(ROOT, 'server/sip/call-engine.ts'), 'utf8');
  return engine.includes('Session modification is not supported yet') ? 'the PBX answers re-INVITEs with 488 "Session modification is not supported yet"' : undefined;
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
  const ports = (pbx as { sipPorts?: InteropPbx['ports'] }).sipPorts ?? {};
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

/**
 * SIPp 3.6 computes digest responses for MD5 only, and uses the first challenge of a 401; baresip 1.0 gives
 * up on any challenge that is not MD5. Returns why such a device can't register, or undefined when it can:
 * the PBX's first challenge to a UDP REGISTER must be MD5.
 */
export async function md5ChallengeMissing(port: number): Promise<string | undefined> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const local = socket.address().port;
    const request = [
      `REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-probe-${Date.now()};rport`,
      'Max-Forwards: 70',
      `From: <sip:101@${DOMAIN}>;tag=probe`,
      `To: <sip:101@${DOMAIN}>`,
      `Call-ID: probe-${Date.now()}@127.0.0.1`,
      'CSeq: 1 REGISTER',
      `Contact: <sip:101@127.0.0.1:${local}>`,
      'Expires: 0',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const response = new Promise<string>((resolveResponse, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 3_000);
      socket.on('message', (message) => {
        const text = message.toString();
        if (/^SIP\/2\.0 1\d\d/.test(text)) return;
        clearTimeout(timer);
        resolveResponse(text);
      });
    });
    socket.send(request, port, '127.0.0.1');
    const text = await response.catch(() => '');
    const first = /^WWW-Authenticate:.*$/im.exec(text)?.[0];
    if (!first) return `the PBX did not challenge a UDP REGISTER (answer: ${text.split('\r\n')[0] || 'none'})`;
    return /algorithm="?MD5"?(?![-\w])/i.test(first) || !/algorithm=/i.test(first)
      ? undefined
      : `the PBX's first digest challenge is not MD5 (${first.trim()}); SIPp 3.6 and baresip 1.0 answer MD5 only`;
  } finally {
    socket.close();
  }
}
