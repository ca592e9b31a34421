/**
 * Two desk phones on real UDP sockets in a call through the PBX (in-process, SQLite): how the PBX answers what
 * phones and trunks send inside and around a call when it is not the usual INVITE/BYE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../../server/store/demo';
import type { PhoneDialog } from '../support/sip-phone';
import { UdpDeskPhone } from '../support/udp-desk-phone';

const DOMAIN = DEMO_ORGANIZATION.domain;
const deskPassword = (extension: string) => DEMO_USERS.find((u) => u.extension === extension)?.sipPassword ?? '';

describe('desk phones in a call: the less usual requests', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-desk-dialogs-'));
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
    pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await expect.poll(() => pbx.sip.calls.activeCallCount).toBe(0);
  });
  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function deskPhone(extension: string): Promise<UdpDeskPhone> {
    const desk = await UdpDeskPhone.start(pbx.sipPorts.udp ?? 0, extension, DOMAIN);
    expect((await desk.register(deskPassword(extension))).status).toBe(200);
    cleanups.push(() => desk.close());
    return desk;
  }

  /** 101 calls 102, 102 answers; on cleanup 101 hangs up. */
  async function call(): Promise<{ caller: UdpDeskPhone; callee: UdpDeskPhone; callerDialog: PhoneDialog; calleeDialog: PhoneDialog }> {
    const caller = await deskPhone('101');
    const callee = await deskPhone('102');
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await callee.request('INVITE');
    const calleeDialog = callee.answer(invite);
    const { final, dialog: callerDialog } = await calling;
    expect(final.status).toBe(200);
    await callee.request('ACK');
    cleanups.push(async () => {
      if (pbx.sip.calls.activeCallCount === 0) return;
      caller.bye(callerDialog);
      callee.reply(await callee.request('BYE'), 200, 'OK');
      await caller.response('BYE');
    });
    return { caller, callee, callerDialog, calleeDialog };
  }

  it('refuses a re-offer without the codec the call carries with 488 and a Warning, and the call goes on (RFC 3261 §14.2)', async () => {
    const { caller, callerDialog } = await call();
    const pcmaOnly = caller.sdp().replace('RTP/AVP 0 101', 'RTP/AVP 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
    const refused = await caller.reinvite(callerDialog, 'sendrecv', pcmaOnly);
    expect(refused.status).toBe(488);
    expect(refused.header('Warning')).toMatch(/^305 \S+ "Incompatible media format"$/);
    // The session is as it was: holding it still works, in PCMU.
    const held = await caller.reinvite(callerDialog, 'sendonly');
    expect(held.status).toBe(200);
    expect(held.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101/m);
    expect(pbx.sip.calls.activeCallCount).toBe(1);
  });
});
