/**
 * The mixer with real plain RTP legs on loopback sockets and its real 20 ms clock: three phones (PCMU, PCMA)
 * and an Opus endpoint, each sending a tone as a phone would, 50 packets a second, each checking by
 * Goertzel filter what it hears. The legs use the native relay where it is built, as in the PBX: audio they
 * are not told to relay must come up to the mixer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { RtpLeg } from '../legs/rtp-leg';
import { phoneOffer, rtpPeer, until } from '../legs/rtp-peer.test-helper';
import type { RtpPeer } from '../legs/rtp-peer.test-helper';
import { describeAudio, parseSdp } from '../sdp/sdp';
import { createDecoder, createEncoder } from './frame-codec';
import type { CodecKind } from './frame-codec';
import { Mixer } from './mixer';
import { nativeRate, toneFrame, toneLevel } from './mixer.test-helper';

const config = { address: '127.0.0.1' };

function opusOffer(port: number): string {
  return ['v=0', 'o=peer 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 111`, 'a=rtpmap:111 opus/48000/2', 'a=ptime:20', ''].join('\r\n');
}

const PAYLOAD_TYPES: Record<CodecKind, number> = { pcmu: 0, pcma: 8, opus: 111 };

interface Phone {
  kind: CodecKind;
  hz: number;
  peer: RtpPeer;
  leg: RtpLeg;
  legPort: number;
}

describe('Mixer with plain RTP legs on loopback', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  async function phone(id: string, kind: CodecKind, hz: number): Promise<Phone> {
    const peer = await rtpPeer();
    const offer = kind === 'opus' ? opusOffer(peer.port) : phoneOffer(peer.port).replace('RTP/AVP 0 8 101', kind === 'pcmu' ? 'RTP/AVP 0 101' : 'RTP/AVP 8 101');
    const { leg, answerSdp } = await RtpLeg.answer(id, offer, config, [{ mimeType: kind === 'opus' ? 'audio/opus' : `audio/${kind.toUpperCase()}`, clockRate: kind === 'opus' ? 48000 : 8000, channels: kind === 'opus' ? 2 : 1, payloadType: PAYLOAD_TYPES[kind] }]);
    cleanups.push(() => peer.close(), () => leg.close());
    return { kind, hz, peer, leg, legPort: describeAudio(parseSdp(answerSdp)).port };
  }

  it('lets each hear the others and not itself, each in its own codec, on the real clock', async () => {
    const phones = [await phone('a', 'pcmu', 500), await phone('b', 'pcma', 900), await phone('c', 'opus', 1300)];
    const mixer = new Mixer({ id: 'conference' });
    cleanups.push(() => mixer.close());
    for (const p of phones) mixer.add(p.leg);
    expect(mixer.mixRate).toBe(48000);

    const encoders = phones.map((p) => createEncoder(p.kind, nativeRate(p.kind)));
    let frame = 0;
    const started = performance.now();
    // Each phone sends a 20 ms frame of its tone, on time, for 1.2 s.
    await until(() => {
      const due = Math.floor((performance.now() - started) / 20);
      for (; frame <= due; frame++) {
        phones.forEach((p, i) => {
          const payload = encoders[i]!.encode(toneFrame(p.hz, nativeRate(p.kind), frame));
          const ticks = p.kind === 'opus' ? 960 : 160;
          p.peer.send(new RtpPacket(new RtpHeader({ payloadType: PAYLOAD_TYPES[p.kind], sequenceNumber: frame, timestamp: frame * ticks, ssrc: 0x100 + i }), payload), p.legPort);
        });
      }
      return frame >= 60;
    }, 5_000);

    for (const listener of phones) {
      const audio = listener.peer.received.filter((packet) => packet.header.payloadType === PAYLOAD_TYPES[listener.kind]);
      // About 50 packets a second from the mixer's clock since the first phone joined.
      expect(audio.length).toBeGreaterThan(45);
      const decoder = createDecoder(listener.kind, nativeRate(listener.kind));
      const frames = audio.map((packet) => {
        const pcm = new Int16Array(nativeRate(listener.kind) / 50);
        decoder.decode(packet.payload, pcm);
        return pcm;
      });
      // The last half second, once every stream is flowing.
      const recent = frames.slice(-25);
      const samples = new Int16Array(recent.length * recent[0]!.length);
      recent.forEach((pcm, i) => samples.set(pcm, i * pcm.length));
      for (const speaker of phones) {
        const level = toneLevel(samples, nativeRate(listener.kind), speaker.hz);
        if (speaker === listener) expect(level, `${listener.leg.id} hears itself`).toBeLessThan(300);
        else expect(level, `${listener.leg.id} hears ${speaker.leg.id}`).toBeGreaterThan(1500);
      }
      // One stream from the mixer, as RFC 3550 asks: one SSRC, sequence numbers one apart.
      expect(new Set(audio.map((packet) => packet.header.ssrc)).size).toBe(1);
      const seqs = audio.map((packet) => packet.header.sequenceNumber);
      expect(seqs.every((seq, i) => i === 0 || seq === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    }
    const stats = mixer.stats();
    for (const p of phones) expect(stats.participants[p.leg.id]!.played).toBeGreaterThan(45);
  });
});
