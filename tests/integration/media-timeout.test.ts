/**
 * A desk phone that vanishes mid-call without a BYE (pulled cable, power cut) and runs no session timer is
 * noticed by its silence: the PBX, started with `--media-timeout 1`, hangs the call up once the phone has
 * sent no RTP for a second, sends the other phone a BYE and writes why in the call record. A phone that put
 * the call on hold may stay silent as long as it likes. Two desk phones on real UDP sockets, the PBX
 * in-process with its SQLite store.
 */
import { describe, expect, it } from 'vitest';
import type { PhoneDialog } from '../support/sip-phone';
import { audioDestination } from '../support/udp-desk-phone';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { udpPbxSuite } from '../support/udp-pbx';

const TIMEOUT_S = 1;

describe('a desk phone that vanishes mid-call', () => {
  const suite = udpPbxSuite('media-timeout', ['--media-timeout', String(TIMEOUT_S)]);

  /** 101 calls 102 and 102 answers; both send a few packets of audio so each leg has seen media. */
  async function call(): Promise<{ caller: UdpDeskPhone; callee: UdpDeskPhone; callerDialog: PhoneDialog; calleeDialog: PhoneDialog; toPbx: { caller: { address: string; port: number }; callee: { address: string; port: number } } }> {
    const { caller, callee, callerDialog, calleeDialog, invite, final } = await suite.answeredCall();
    const toPbx = { caller: audioDestination(final.body), callee: audioDestination(invite.body) };
    for (let seq = 1; seq <= 5; seq++) {
      caller.sendAudio(0x11, seq, toPbx.caller);
      callee.sendAudio(0x22, seq, toPbx.callee);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { caller, callee, callerDialog, calleeDialog, toPbx };
  }

  /** The caller keeps talking for `ms` (so only the callee can be the silent one); resolves to a BYE if one came. */
  async function callerTalksFor(caller: UdpDeskPhone, to: { address: string; port: number }, ms: number): Promise<boolean> {
    const bye = caller.request('BYE', ms).then(
      (request) => {
        caller.reply(request, 200, 'OK');
        return true;
      },
      () => false,
    );
    let gotBye = false;
    void bye.then((got) => (gotBye = got));
    for (let seq = 100; seq < 100 + ms / 20 && !gotBye; seq++) {
      caller.sendAudio(0x11, seq, to);
      await new Promise((r) => setTimeout(r, 20));
    }
    return bye;
  }

  async function lastEndReason(): Promise<string | null | undefined> {
    await suite.pbx.sip.calls.flushRecords();
    const row = await suite.pbx.db.selectFrom('call_records').select(['end_reason', 'disposition']).orderBy('id', 'desc').executeTakeFirst();
    return row?.end_reason;
  }

  it('hangs up a call whose desk phone went silent without a BYE: the other phone gets BYE and the record says why', async () => {
    const { caller, callee, toPbx } = await call();
    // The callee's cable is pulled: nothing more from it, not even RTCP.
    const calleeBye = callee.request('BYE', 10_000);
    expect(await callerTalksFor(caller, toPbx.caller, 6_000), 'a BYE reached the phone still talking').toBe(true);
    // The vanished phone is sent a BYE too, in case it was only its media that went away.
    expect((await calleeBye).method).toBe('BYE');
    expect(suite.pbx.sip.calls.activeCallCount).toBe(0);
    await expect.poll(lastEndReason).toBe('no media from the device');
  });

  it('leaves a held call up however long the holding phone is silent, and hangs up once it resumes and stays silent', async () => {
    const { caller, callee, calleeDialog, toPbx } = await call();
    const held = await callee.reinvite(calleeDialog, 'sendonly');
    expect(held.status).toBe(200);
    expect(held.body).toMatch(/^a=recvonly/m);
    // Three timeouts of silence on hold: the call stays up.
    expect(await callerTalksFor(caller, toPbx.caller, 3_000 * TIMEOUT_S), 'no BYE while on hold').toBe(false);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);

    expect((await callee.reinvite(calleeDialog, 'sendrecv')).status).toBe(200);
    expect(await callerTalksFor(caller, toPbx.caller, 6_000), 'a BYE once the resumed phone stays silent').toBe(true);
    callee.reply(await callee.request('BYE'), 200, 'OK');
    expect(suite.pbx.sip.calls.activeCallCount).toBe(0);
  });
});
