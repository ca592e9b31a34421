/**
 * Leaving a voicemail on a running PBX, as a desk phone does it: Bob (102) calls Alice (101), who has no device
 * registered, so the PBX answers for her mailbox. Bob hears the greeting and the tone, speaks (a 1 kHz tone) and
 * hangs up; the message is stored as an Ogg Opus file that holds his tone, the desk phone watching Alice's
 * mailbox lights its lamp (message-summary NOTIFY) and Alice's app gets the `voicemail` event, within a second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import type { VoicemailList } from '../../shared/voicemail';
import { chooseEngine } from '../../server/features/transcription';
import { decodeAudio } from '../../server/media/audio-file';
import { decodeG711, encodeG711 } from '../../server/media/joins/g711';
import { toneFrame, toneLevel } from '../../server/media/joins/mixer.test-helper';
import { phoneOffer, rtpPeer } from '../../server/media/legs/rtp-peer.test-helper';
import type { RtpPeer } from '../../server/media/legs/rtp-peer.test-helper';
import { TestEventStream } from '../support/events-client';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN, udpPbxSuite } from '../support/udp-pbx';
import { until } from '../support/ws-pbx';

describe('leaving a voicemail from a desk phone', () => {
  const suite = udpPbxSuite('int-voicemail-deposit');

  async function signIn(extension: string, password: string): Promise<string> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password, organization: DOMAIN }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as SessionResponse).token;
  }

  /** Alice's lamp: a desk phone of hers that only subscribes to her mailbox (not registered, so calls find her unreachable). */
  async function lamp(): Promise<{ next: () => Promise<string> }> {
    const desk = await UdpDeskPhone.start(suite.pbx.sipPorts.udp ?? 0, '101', DOMAIN);
    suite.cleanups.push(() => desk.close());
    const ok = await desk.authenticated('SUBSCRIBE', '101', deskPassword('101'), { 'Event': 'message-summary', 'Accept': 'application/simple-message-summary', 'Expires': '600' });
    expect(ok.status).toBe(200);
    return {
      next: async () => {
        const notify = await desk.request('NOTIFY', 5_000);
        desk.reply(notify, 200, 'OK');
        return notify.body;
      },
    };
  }

  async function media(): Promise<RtpPeer> {
    const peer = await rtpPeer();
    suite.cleanups.push(() => peer.close());
    return peer;
  }

  /** The last `count` PCMU packets the phone heard, decoded. */
  function lastHeard(peer: RtpPeer, count: number): Int16Array {
    const packets = peer.received.filter((packet) => packet.header.payloadType === 0).slice(-count);
    const out = new Int16Array(packets.length * 160);
    packets.forEach((packet, i) => decodeG711('ulaw', packet.payload, out.subarray(i * 160, (i + 1) * 160)));
    return out;
  }

  /** `ms` of a 1 kHz tone, paced as a phone sends it. */
  async function speak(peer: RtpPeer, to: { address: string; port: number }, ms: number): Promise<void> {
    for (let i = 0; i < ms / 20; i++) {
      const packet = new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0xb0b }), encodeG711('ulaw', toneFrame(1000, 8000, i)));
      peer.send(packet, to.port, to.address);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('stores what the caller said, lights the lamp and tells the app', async () => {
    const watcher = await lamp();
    expect(await watcher.next()).toContain('Voice-Message: 0/0');
    const token = await signIn('101', 'alice-101');
    const stream = await TestEventStream.open(suite.pbx.httpUrl, token);
    suite.cleanups.push(() => stream.close());
    await stream.ready();

    const bob = await suite.deskPhone('102');
    const phone = await media();
    const { final, dialog } = await bob.invite('101', deskPassword('102'), {}, phoneOffer(phone.port));
    expect(final.status).toBe(200);
    const pbxMedia = audioDestination(final.body);

    // The greeting (recorded speech: energy), then the 440 Hz tone.
    await until(() => phone.received.length >= 25, 10_000);
    const greeting = lastHeard(phone, 25);
    expect(Math.sqrt(greeting.reduce((sum, s) => sum + s * s, 0) / greeting.length)).toBeGreaterThan(100);
    await until(() => toneLevel(lastHeard(phone, 10), 8000, 440) > 3000, 30_000);
    // After the tone the PBX only listens: nothing more comes for a while.
    for (let before = -1; before !== phone.received.length; ) {
      before = phone.received.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    await speak(phone, pbxMedia, 3_000);
    bob.bye(dialog);
    expect((await bob.response('BYE')).status).toBe(200);
    const hungUp = Date.now();

    await stream.until(() => stream.events().some((m) => m.event.type === 'voicemail'), 'the voicemail event', 1_000);
    expect(Date.now() - hungUp).toBeLessThan(1_000);
    const event = stream.events().find((m) => m.event.type === 'voicemail')!.event;
    expect(event).toMatchObject({ type: 'voicemail', change: 'added', counts: { new: 1, saved: 0 } });
    const lit = await watcher.next();
    expect(lit).toContain('Messages-Waiting: yes');
    expect(lit).toContain('Voice-Message: 1/0');

    const row = await suite.pbx.db.selectFrom('voicemails').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ caller_extension: '102', caller_name: 'Bob Brown', status: 'new', wideband: 0, reason: 'unreachable' });
    expect(row.duration_ms).toBeGreaterThan(2_500);
    expect(row.duration_ms).toBeLessThan(3_500);
    const file = readFileSync(join(suite.pbx.voicemailDataDir, row.file));
    expect(file.subarray(0, 4).toString('latin1')).toBe('OggS');
    const decoded = decodeAudio(file, row.file);
    expect(Math.abs(decoded.durationMs - row.duration_ms)).toBeLessThan(100);
    const middle = decoded.samples.subarray(Math.floor(decoded.samples.length / 4), Math.floor((decoded.samples.length * 3) / 4));
    expect(toneLevel(middle, decoded.rate, 1000)).toBeGreaterThan(3000);
    expect(toneLevel(middle, decoded.rate, 440)).toBeLessThan(500);

    // In Alice's list, a desk phone's narrowband message says so rather than carrying a poor transcript (or
    // says transcription is off, on a machine without the offline engine).
    const expected = chooseEngine({}).engine ? 'narrowband' : 'off';
    await expect
      .poll(async () => {
        const response = await fetch(`${suite.pbx.httpUrl}/api/v1/voicemails`, { headers: { authorization: `Bearer ${token}` } });
        return ((await response.json()) as VoicemailList).items.map((item) => [item.id, item.callerName, item.transcript.status]);
      })
      .toEqual([[row.id, 'Bob Brown', expected]]);
  });

  it('answers *97 with the mailbox menu, which speaks', async () => {
    // Carol's desk phone: registering it would ring it for calls to her, and 101 is called above and below.
    const carol = await suite.deskPhone('103');
    const phone = await media();
    const { final, dialog } = await carol.invite('*97', deskPassword('103'), {}, phoneOffer(phone.port));
    expect(final.status).toBe(200);
    await until(() => phone.received.length >= 25, 10_000);
    const said = lastHeard(phone, 25);
    expect(Math.sqrt(said.reduce((sum, s) => sum + s * s, 0) / said.length)).toBeGreaterThan(100);
    carol.bye(dialog);
    expect((await carol.response('BYE')).status).toBe(200);
  });

  it('keeps nothing from a caller who hangs up during the greeting', async () => {
    const before = (await suite.pbx.db.selectFrom('voicemails').select('id').execute()).length;
    const bob = await suite.deskPhone('102');
    const phone = await media();
    const { final, dialog } = await bob.invite('101', deskPassword('102'), {}, phoneOffer(phone.port));
    expect(final.status).toBe(200);
    await until(() => phone.received.length >= 5, 10_000);
    bob.bye(dialog);
    expect((await bob.response('BYE')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await suite.pbx.db.selectFrom('voicemails').select('id').execute()).toHaveLength(before);
  });
});
