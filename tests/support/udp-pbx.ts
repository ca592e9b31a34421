/**
 * The PBX in-process as desk phones meet it: the demo organization, SIP over UDP only (on a free port), media on
 * loopback, and its store in a fresh directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../../server/store/demo';
import type { PhoneDialog, SipText } from './sip-phone';
import { UdpDeskPhone } from './udp-desk-phone';

export const DOMAIN = DEMO_ORGANIZATION.domain;

/** A demo user's desk-phone SIP password. */
export const deskPassword = (extension: string): string => DEMO_USERS.find((u) => u.extension === extension)?.sipPassword ?? '';

/** Starts it with `extra` command-line flags; the caller closes it and removes `dataDir`. */
export async function startUdpPbx(name: string, extra: string[] = []): Promise<{ pbx: RunningPbx; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `offhook-${name}-`));
  const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', 'off', '--sip-tls-port', 'off', ...extra];
  const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
  return { pbx, dataDir };
}

export interface UdpPbxSuite {
  /** The running PBX (from the suite's beforeAll on). */
  readonly pbx: RunningPbx;
  /** What a test leaves to undo; run after it, last first. */
  readonly cleanups: Array<() => unknown>;
  /** A registered UDP desk phone for a demo user, closed after the test. */
  deskPhone(extension: string): Promise<UdpDeskPhone>;
  /** 101 calls 102 from desk phones and 102 answers: the INVITE 102 got, the 200 101 got, both dialogs. */
  answeredCall(): Promise<AnsweredCall>;
}

export interface AnsweredCall {
  caller: UdpDeskPhone;
  callee: UdpDeskPhone;
  callerDialog: PhoneDialog;
  calleeDialog: PhoneDialog;
  invite: SipText;
  final: SipText;
}

/**
 * For the describe block it is called in: the PBX started before its tests; after each, its cleanups run and
 * no call may be left up; after them all, the PBX closed and its store removed.
 */
export function udpPbxSuite(name: string, extra: string[] = []): UdpPbxSuite {
  let started: { pbx: RunningPbx; dataDir: string } | undefined;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    started = await startUdpPbx(name, extra);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (started) await expect.poll(() => started?.pbx.sip.calls.activeCallCount).toBe(0);
  });
  afterAll(async () => {
    await started?.pbx.close();
    if (started) rmSync(started.dataDir, { recursive: true, force: true });
  });
  const suite: UdpPbxSuite = {
    get pbx() {
      if (!started) throw new Error('the PBX starts in beforeAll');
      return started.pbx;
    },
    cleanups,
    async deskPhone(extension) {
      const desk = await UdpDeskPhone.registered(suite.pbx.sipPorts.udp ?? 0, extension, DOMAIN, deskPassword(extension));
      cleanups.push(() => desk.close());
      return desk;
    },
    async answeredCall() {
      const caller = await suite.deskPhone('101');
      const callee = await suite.deskPhone('102');
      const calling = caller.invite('102', deskPassword('101'));
      const invite = await callee.request('INVITE');
      const calleeDialog = callee.answer(invite);
      const { final, dialog: callerDialog } = await calling;
      expect(final.status).toBe(200);
      return { caller, callee, callerDialog, calleeDialog, invite, final };
    },
  };
  return suite;
}
