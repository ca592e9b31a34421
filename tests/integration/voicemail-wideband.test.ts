/**
 * A message left from a browser-like phone (SIP over WebSocket, WebRTC with Opus): recorded wideband, at 16 kHz,
 * so transcription can read it, and stored as Ogg Opus that holds the caller's tone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../server/media/audio-file';
import { toneFrame, toneLevel } from '../../server/media/joins/mixer.test-helper';
import { OpusFrameDecoder, OpusFrameEncoder } from '../../server/media/joins/opus-codec';
import { until, wsPbxSuite } from '../support/ws-pbx';

describe('leaving a voicemail from a WebRTC phone', () => {
  const suite = wsPbxSuite('int-voicemail-wideband');

  it('records the caller wideband and stores what they said', async () => {
    const bob = await suite.phone('102');
    const media = suite.peer();
    const { final, dialog } = await bob.invite('101', await media.offer());
    expect(final.status).toBe(200);
    await media.accept(final.body);

    // The greeting reaches the caller in Opus, with sound in it; then the PBX goes quiet to listen.
    await until(() => media.payloads.length >= 50, 15_000);
    const decoder = new OpusFrameDecoder(48000);
    const greeting = new Int16Array(960 * 50);
    media.payloads.slice(0, 50).forEach((payload, i) => decoder.decode(payload, greeting.subarray(i * 960, (i + 1) * 960)));
    expect(Math.sqrt(greeting.reduce((sum, s) => sum + s * s, 0) / greeting.length)).toBeGreaterThan(100);
    for (let before = -1; before !== media.payloads.length; ) {
      before = media.payloads.length;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }

    const encoder = new OpusFrameEncoder(48000);
    for (let i = 0; i < 150; i++) {
      media.sendPayload(encoder.encode(toneFrame(1000, 48000, i)), i);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    bob.inDialog(dialog, 'BYE');
    expect((await bob.response('BYE')).status).toBe(200);

    await expect.poll(() => suite.pbx.db.selectFrom('voicemails').selectAll().execute(), { timeout: 5_000 }).toHaveLength(1);
    const row = await suite.pbx.db.selectFrom('voicemails').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ caller_extension: '102', wideband: 1, status: 'new' });
    expect(row.duration_ms).toBeGreaterThan(2_500);
    expect(row.duration_ms).toBeLessThan(3_500);
    const file = readFileSync(join(suite.pbx.voicemailDataDir, row.file));
    // RFC 7845 §5.1: the OpusHead names the rate the audio was recorded at.
    expect(file.readUInt32LE(28 + 12)).toBe(16000);
    const decoded = decodeAudio(file, row.file);
    const middle = decoded.samples.subarray(Math.floor(decoded.samples.length / 4), Math.floor((decoded.samples.length * 3) / 4));
    expect(toneLevel(middle, decoded.rate, 1000)).toBeGreaterThan(3000);
  });
});
