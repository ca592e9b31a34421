/**
 * What voicemail keeps across a stop: a message being left when the PBX shuts down is stored before the store
 * closes (the caller is hung up, what they said is kept), and at the next start a message file no row names
 * (left by a stop between writing the file and storing its row) is removed while the stored ones stay.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { encodeG711 } from '../../server/media/joins/g711';
import { toneFrame } from '../../server/media/joins/mixer.test-helper';
import { phoneOffer, rtpPeer } from '../../server/media/legs/rtp-peer.test-helper';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN } from '../support/udp-pbx';
import { until } from '../support/ws-pbx';

describe('voicemail across a stop of the PBX', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(dataDir: string): Promise<RunningPbx> {
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', 'off', '--sip-tls-port', 'off', '--transcription', 'off'];
    const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
    cleanups.push(() => pbx.close());
    return pbx;
  }

  it('stores the message being left when the PBX stops; at the next start moves unnamed files aside and removes half-written ones', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-vm-durable-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await start(dataDir);
    const bob = await UdpDeskPhone.registered(first.sipPorts.udp ?? 0, '102', DOMAIN, deskPassword('102'));
    cleanups.push(() => bob.close());
    const phone = await rtpPeer();
    cleanups.push(() => phone.close());
    const { final } = await bob.invite('101', deskPassword('102'), {}, phoneOffer(phone.port));
    expect(final.status).toBe(200);
    const pbxMedia = audioDestination(final.body);
    // Past the greeting and the tone: the PBX has gone quiet to listen.
    await until(() => phone.received.length >= 25, 10_000);
    for (let before = -1; before !== phone.received.length; ) {
      before = phone.received.length;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    for (let i = 0; i < 100; i++) {
      phone.send(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0xb0b }), encodeG711('ulaw', toneFrame(1000, 8000, i))), pbxMedia.port);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await first.close();
    const byeToCaller = await bob.request('BYE', 2_000);
    expect(byeToCaller.header('Call-ID')).toBe(final.header('Call-ID'));

    // A stray file, as a stop between writing a message and storing its row would leave, and a half-written one.
    const orphan = join(dataDir, 'voicemail', '2', 'left-by-a-crash.opus');
    const partial = join(dataDir, 'voicemail', '2', 'cut-short.opus.part');
    mkdirSync(join(dataDir, 'voicemail', '2'), { recursive: true });
    writeFileSync(orphan, 'OggS');
    writeFileSync(partial, 'Og');
    const second = await start(dataDir);
    const rows = await second.db.selectFrom('voicemails').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ caller_extension: '102', status: 'new' });
    expect(rows[0]!.duration_ms).toBeGreaterThan(1_500);
    expect(existsSync(join(dataDir, rows[0]!.file))).toBe(true);
    expect(existsSync(orphan)).toBe(false);
    expect(readFileSync(join(dataDir, 'voicemail', 'unlisted', '2', 'left-by-a-crash.opus'), 'utf8')).toBe('OggS');
    expect(existsSync(partial)).toBe(false);
  });
});
