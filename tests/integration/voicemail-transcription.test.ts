/**
 * Transcription wired into a running PBX: Bob (102) leaves Alice (101) a voicemail from a desk phone; the PBX,
 * configured with a hosted speech-to-text service (a fake on 127.0.0.1, the edge of the system), sends it the
 * message as an 8 kHz WAV with its key, stores the text, tells Alice's app (`voicemail` `updated`), lists the
 * message with its transcript and finds it by a word of it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RtpHeader, RtpPacket } from 'werift';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { VoicemailList } from '../../shared/voicemail';
import { decodeG711, encodeG711 } from '../../server/media/joins/g711';
import { toneFrame, toneLevel } from '../../server/media/joins/mixer.test-helper';
import { phoneOffer, rtpPeer } from '../../server/media/legs/rtp-peer.test-helper';
import type { RtpPeer } from '../../server/media/legs/rtp-peer.test-helper';
import { TestEventStream } from '../support/events-client';
import { audioDestination } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN, udpPbxSuite } from '../support/udp-pbx';
import { until } from '../support/ws-pbx';

const SAID = 'Bob here about the invoice, please call me back';
const received: { authorization: string | undefined; body: Buffer }[] = [];
/** The service answers once the test lets it, so the test can see the message while it is pending. */
let letAnswer: () => void = () => undefined;
const answering = new Promise<void>((resolve) => (letAnswer = resolve));
const service = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({ authorization: request.headers.authorization, body: Buffer.concat(chunks) });
    void answering.then(() => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ text: SAID })));
  });
});
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/transcribe`;

describe('voicemail transcribed by a hosted service', () => {
  const suite = udpPbxSuite('int-voicemail-transcription', ['--transcription', 'hosted', '--transcription-url', serviceUrl, '--transcription-key', 'test-key']);
  afterAll(async () => {
    service.closeAllConnections();
    await new Promise((resolve) => service.close(resolve));
  });

  async function signIn(extension: string, password: string): Promise<string> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password, organization: DOMAIN }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as SessionResponse).token;
  }

  async function list(token: string, query = ''): Promise<VoicemailList> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1/voicemails${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return VoicemailList.parse(await response.json());
  }

  function lastHeard(peer: RtpPeer, count: number): Int16Array {
    const packets = peer.received.filter((packet) => packet.header.payloadType === 0).slice(-count);
    const out = new Int16Array(packets.length * 160);
    packets.forEach((packet, i) => decodeG711('ulaw', packet.payload, out.subarray(i * 160, (i + 1) * 160)));
    return out;
  }

  it('sends the message to the service, stores and announces the text, and finds the message by it', async () => {
    const token = await signIn('101', 'alice-101');
    const stream = await TestEventStream.open(suite.pbx.httpUrl, token);
    suite.cleanups.push(() => stream.close());
    await stream.ready();

    const bob = await suite.deskPhone('102');
    const phone = await rtpPeer();
    suite.cleanups.push(() => phone.close());
    const { final, dialog } = await bob.invite('101', deskPassword('102'), {}, phoneOffer(phone.port));
    expect(final.status).toBe(200);
    const pbxMedia = audioDestination(final.body);
    // The greeting, then the record tone: the PBX listens from there.
    await until(() => phone.received.length >= 25 && toneLevel(lastHeard(phone, 10), 8000, 440) > 3000, 30_000);
    for (let before = -1; before !== phone.received.length; ) {
      before = phone.received.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (let i = 0; i < 125; i++) {
      phone.send(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0xb0b }), encodeG711('ulaw', toneFrame(1000, 8000, i))), pbxMedia.port, pbxMedia.address);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    bob.bye(dialog);
    expect((await bob.response('BYE')).status).toBe(200);

    // Announced with its transcript already pending, never read as off.
    const added = () => stream.events().find((m) => m.event.type === 'voicemail' && m.event.change === 'added');
    await stream.until(() => added() !== undefined, 'the voicemail added event', 5_000);
    const first = await list(token);
    expect(first.items.map((item) => item.transcript)).toEqual([{ status: 'pending' }]);
    await until(() => received.length === 1, 10_000);
    letAnswer();

    const updated = () => stream.events().find((m) => m.event.type === 'voicemail' && m.event.change === 'updated');
    await stream.until(() => updated() !== undefined, 'the voicemail updated event', 10_000);
    expect(updated()!.event).toMatchObject({ type: 'voicemail', change: 'updated', id: first.items[0]!.id });

    // What the service got: the message as it was recorded (G.711, so 8 kHz), about 2.5 s, with the key.
    expect(received).toHaveLength(1);
    expect(received[0]!.authorization).toBe('Bearer test-key');
    const wav = received[0]!.body;
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(8000);
    const seconds = wav.readUInt32LE(40) / 2 / 8000;
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThan(3);

    const { items } = await list(token);
    expect(items).toHaveLength(1);
    expect(items[0]!.transcript).toEqual({ status: 'done', engine: 'hosted', text: SAID });
    expect((await list(token, '?q=invoice')).items.map((item) => item.id)).toEqual([items[0]!.id]);
    expect((await list(token, '?q=pizza')).items).toEqual([]);
    // Search text that is FTS5 syntax is only words.
    expect((await list(token, `?q=${encodeURIComponent('"invoice OR (')}`)).items).toEqual([]);
  }, 60_000);
});
