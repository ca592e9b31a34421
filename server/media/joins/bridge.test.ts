import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { MediaBridge } from './bridge';
import { RtpLeg } from '../legs/rtp-leg';
import { pcmu, phoneOffer, rtpPeer } from '../legs/rtp-peer.test-helper';
import { describeAudio, parseSdp } from '../sdp/sdp';
import { WebRtcLeg } from '../legs/webrtc-leg';

const config = { address: '127.0.0.1' };

/** A full-ICE WebRTC endpoint on loopback standing in for a browser. */
function endpoint() {
  const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendrecv' });
  const received: number[] = [];
  pc.onTrack.subscribe((remote) => remote.onReceiveRtp.subscribe((rtp) => received.push(rtp.payload.readUInt8(0))));
  return { pc, track, received };
}

async function gathered(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
  return pc.localDescription!.sdp;
}

function packet(marker: number, seq: number): RtpPacket {
  return new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 1234 }), Buffer.from([marker, 0, 0]));
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('media bridge', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('relays RTP both ways between a caller leg and a callee leg', async () => {
    const caller = endpoint();
    const callee = endpoint();
    cleanups.push(() => caller.pc.close(), () => callee.pc.close());

    await caller.pc.setLocalDescription(await caller.pc.createOffer());
    const { leg: a, answerSdp } = await WebRtcLeg.answer('a', await gathered(caller.pc), config);
    await caller.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });

    const { leg: b, offerSdp } = await WebRtcLeg.offer('b', config, [a.codec!]);
    await callee.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await callee.pc.setLocalDescription(await callee.pc.createAnswer());
    await b.acceptAnswer(await gathered(callee.pc));

    const bridge = new MediaBridge(a, b);
    cleanups.push(() => bridge.close());
    expect(a.codec?.mimeType.toLowerCase()).toBe('audio/opus');
    await until(() => a.state === 'connected' && b.state === 'connected');

    for (let seq = 1; seq <= 50 && (callee.received.length < 10 || caller.received.length < 10); seq++) {
      caller.track.writeRtp(packet(0xa1, seq));
      callee.track.writeRtp(packet(0xb2, seq));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => callee.received.length >= 10 && caller.received.length >= 10);
    expect(new Set(callee.received)).toEqual(new Set([0xa1]));
    expect(new Set(caller.received)).toEqual(new Set([0xb2]));

    bridge.close();
    expect(a.state).toBe('closed');
    expect(b.state).toBe('closed');
  });

  it.each([
    ['the native relay', true],
    ['Node sockets', false],
  ])('relays plain RTP between two desk phones through %s, rewriting each stream and answering a NATed phone where its media comes from', async (_name, nativeRelay) => {
    const config = { address: '127.0.0.1', nativeRelay };
    const phoneA = await rtpPeer(); // what A announces
    const natA = await rtpPeer(); // where A's media really comes from
    const phoneB = await rtpPeer();
    cleanups.push(() => phoneA.close(), () => natA.close(), () => phoneB.close());
    const { leg: a, answerSdp } = await RtpLeg.answer('a', phoneOffer(phoneA.port), config);
    const { leg: b, offerSdp } = await RtpLeg.offer('b', config, [a.codec!]);
    await b.acceptAnswer(phoneOffer(phoneB.port).replace(' 0 8 101', ' 0 101'));
    const bridge = new MediaBridge(a, b);
    cleanups.push(() => bridge.close());
    const portA = describeAudio(parseSdp(answerSdp)).port;
    const portB = describeAudio(parseSdp(offerSdp)).port;

    for (let seq = 1; seq <= 5; seq++) {
      natA.send(pcmu(0xa0 + seq, 1000 + seq, 0xaaaa), portA);
      await until(() => phoneB.received.length === seq);
      phoneB.send(pcmu(0xb0 + seq, 2000 + seq, 0xbbbb), portB);
      await until(() => natA.received.length === seq);
    }
    expect(phoneA.received).toHaveLength(0);
    for (const [heard, sentSsrc, fill] of [[phoneB.received, 0xaaaa, 0xa0], [natA.received, 0xbbbb, 0xb0]] as const) {
      const headers = heard.map((p) => p.header);
      expect(new Set(headers.map((h) => h.ssrc)).size).toBe(1);
      expect(headers[0]?.ssrc).not.toBe(sentSsrc);
      expect(headers.every((h) => h.payloadType === 0)).toBe(true);
      expect(headers.slice(1).map((h, i) => (h.sequenceNumber - headers[i]!.sequenceNumber + 0x10000) % 0x10000)).toEqual([1, 1, 1, 1]);
      expect(headers.slice(1).map((h, i) => (h.timestamp - headers[i]!.timestamp + 2 ** 32) % 2 ** 32)).toEqual([160, 160, 160, 160]);
      expect(heard.map((p) => p.payload.readUInt8(0))).toEqual([1, 2, 3, 4, 5].map((n) => fill + n));
    }
    expect(a.packetsReceived).toBe(5);
    expect(b.packetsReceived).toBe(5);

    // B holds: nothing crosses either way.
    await b.renegotiate(phoneOffer(phoneB.port, 'a=sendonly'));
    natA.send(pcmu(0xa9, 1009, 0xaaaa), portA);
    phoneB.send(pcmu(0xb9, 2009, 0xbbbb), portB);
    await new Promise((r) => setTimeout(r, 100));
    expect([phoneB.received.length, natA.received.length]).toEqual([5, 5]);
    expect(a.packetsReceived).toBe(6);
  });

  it('rejects an offer without audio', async () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    cleanups.push(() => pc.close());
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    await expect(WebRtcLeg.answer('x', await gathered(pc), config)).rejects.toThrow(/audio/);
  });
});
