/**
 * Call screening on a running PBX with desk phones: Bob's rule rings his phone with screening on. Carol calls
 * from her desk phone; the PBX answers her at once and asks her name ("At the tone, please say your name.", the
 * tone); she says it (a 700 Hz tone, then silence). Only then does Bob's phone ring; Bob answers and hears the
 * PBX say who calls, with Carol's own voice (her 700 Hz) in it. He presses 1 (SIP INFO) and they talk: each hears
 * the other. Pressed 2 instead, the call goes to his voicemail and Carol hears the greeting's tone.
 * Real PBX, real prompts, the real screening service; the phones are UDP desk phones in this process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../server/media/joins/g711';
import { toneFrame, toneLevel } from '../../server/media/joins/mixer.test-helper';
import { addAlwaysRule } from '../support/answering-rule';
import type { PhoneDialog, SipText } from '../support/sip-phone';
import { audioDestination } from '../support/udp-desk-phone';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { DOMAIN, deskPassword, udpPbxSuite } from '../support/udp-pbx';
import { until } from '../support/ws-pbx';

const NAME_HZ = 700;
const BOB_HZ = 1_000;
const CAROL_HZ = 1_200;
const RECORD_TONE_HZ = 440;

describe('call screening with desk phones', () => {
  const suite = udpPbxSuite('int-screening');

  beforeAll(async () => {
    const action = { type: 'ring', ringSeconds: 30, screen: true, whenNotAnswered: { type: 'voicemail' } };
    await addAlwaysRule(suite.pbx.httpUrl, { extension: '102', password: 'bob-102' }, 'Screen callers', action, DOMAIN);
  });

  /** What `phone` heard from index `from` on, decoded. */
  function heardSince(phone: UdpDeskPhone, from: number): Int16Array {
    const payloads = phone.heard.slice(from);
    const out = new Int16Array(payloads.length * 160);
    payloads.forEach((payload, i) => decodeG711('ulaw', payload, out.subarray(i * 160, (i + 1) * 160)));
    return out;
  }

  /** Sends `ms` of a tone (`hz`, or silence for 0) from `phone` to `to`, paced as a phone does. */
  async function say(phone: UdpDeskPhone, to: { address: string; port: number }, hz: number, ms: number, seq: { next: number }): Promise<void> {
    for (let i = 0; i < ms / 20; i++, seq.next++) {
      phone.sendPayload(encodeG711('ulaw', hz ? toneFrame(hz, 8000, seq.next) : new Int16Array(160)), seq.next, to);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A key pressed in SIP INFO (application/dtmf-relay), as many desk phones send them. */
  function pressKey(phone: UdpDeskPhone, dialog: PhoneDialog, digit: string): void {
    dialog.cseq += 1;
    phone.send(
      'INFO',
      dialog.remoteTarget,
      { 'From': dialog.local, 'To': dialog.remote, 'Call-ID': dialog.callId, 'CSeq': `${dialog.cseq} INFO`, 'Content-Type': 'application/dtmf-relay' },
      `Signal=${digit}\r\nDuration=160\r\n`,
    );
  }

  /** Carol calls Bob and says her name after the tone; Bob's phone then rings and he answers. */
  async function screenedCall() {
    const bob = await suite.deskPhone('102');
    const carol = await suite.deskPhone('103');
    const { final, dialog: carolDialog } = await carol.invite('102', deskPassword('103'));
    // Answered by the PBX at once, before Bob's phone rings.
    expect(final.status).toBe(200);
    const toPbx = audioDestination(final.body);
    const seq = { next: 0 };
    // The question, then the tone: Carol speaks once she has heard it.
    await until(() => toneLevel(heardSince(carol, Math.max(0, carol.heard.length - 10)), 8000, RECORD_TONE_HZ) > 2000, 15_000);
    let rang: SipText | undefined;
    void bob.request('INVITE', 20_000).then((invite) => (rang = invite));
    await say(carol, toPbx, NAME_HZ, 1_200, seq);
    expect(rang, 'Bob’s phone rings only once Carol has said her name').toBeUndefined();
    await say(carol, toPbx, 0, 1_400, seq);
    await until(() => rang !== undefined, 10_000);
    const heardBefore = bob.heard.length;
    const bobDialog = bob.answer(rang!);
    return { bob, carol, carolDialog, bobDialog, heardBefore, toPbx, seq, final, bobInvite: rang! };
  }

  it('asks the caller their name before the phone rings; the user hears it and takes the call with 1', async () => {
    const { bob, carol, carolDialog, bobDialog, heardBefore, toPbx, seq, final, bobInvite } = await screenedCall();
    // Bob hears "I have a caller waiting, who introduces themselves as:" (3.9 s) and Carol's name, her voice.
    await until(() => bob.heard.length - heardBefore >= 300, 15_000);
    expect(toneLevel(heardSince(bob, heardBefore), 8000, NAME_HZ), 'Bob hears the name Carol said').toBeGreaterThan(500);
    pressKey(bob, bobDialog, '1');
    expect((await bob.response('INFO')).status).toBe(200);

    // Joined: each hears the other.
    const bobToPbx = audioDestination(bobInvite.body);
    const bobSeq = { next: 0 };
    const carolHeard = carol.heard.length;
    const bobHeard = bob.heard.length;
    await Promise.all([say(carol, toPbx, CAROL_HZ, 1_500, seq), say(bob, bobToPbx, BOB_HZ, 1_500, bobSeq)]);
    expect(toneLevel(heardSince(bob, bobHeard), 8000, CAROL_HZ), 'Bob hears Carol').toBeGreaterThan(1_000);
    expect(toneLevel(heardSince(carol, carolHeard), 8000, BOB_HZ), 'Carol hears Bob').toBeGreaterThan(1_000);

    carol.bye(carolDialog);
    expect((await carol.response('BYE')).status).toBe(200);
    await bob.request('BYE');
    await suite.pbx.sip.calls.flushRecords();
    const record = await suite.pbx.db.selectFrom('call_records').selectAll().where('call_id', '=', final.header('Call-ID') ?? '').executeTakeFirst();
    expect(record).toMatchObject({ disposition: 'answered', caller_extension: '103', callee_extension: '102' });
    expect(record?.answered_at).toBeTruthy();
  });

  it('sends the call to voicemail when the user presses 2: the caller hears the greeting', async () => {
    const { bob, carol, carolDialog, bobDialog, heardBefore, final } = await screenedCall();
    await until(() => bob.heard.length - heardBefore >= 50, 15_000);
    // While he chooses the call is not his yet: it cannot be transferred.
    bobDialog.cseq += 1;
    bob.send('REFER', bobDialog.remoteTarget, { 'From': bobDialog.local, 'To': bobDialog.remote, 'Call-ID': bobDialog.callId, 'CSeq': `${bobDialog.cseq} REFER`, 'Refer-To': `<sip:101@${DOMAIN}>`, 'Contact': `<sip:102@127.0.0.1>` });
    expect((await bob.response('REFER')).status).toBe(403);
    pressKey(bob, bobDialog, '2');
    expect((await bob.response('INFO')).status).toBe(200);
    await bob.request('BYE');
    // Carol now hears Bob's voicemail: the default greeting, then its tone.
    const from = carol.heard.length;
    await until(() => toneLevel(heardSince(carol, Math.max(from, carol.heard.length - 10)), 8000, RECORD_TONE_HZ) > 2000, 20_000);
    carol.bye(carolDialog);
    expect((await carol.response('BYE')).status).toBe(200);
    await suite.pbx.sip.calls.flushRecords();
    const record = await suite.pbx.db.selectFrom('call_records').selectAll().where('call_id', '=', final.header('Call-ID') ?? '').executeTakeFirst();
    expect(record).toMatchObject({ disposition: 'missed', end_reason: 'voicemail', answered_at: null });
  });
});
