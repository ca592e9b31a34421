import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { MediaBridge } from './bridge';
import { WebRtcLeg } from './webrtc-leg';

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

  it('rejects an offer without audio', async () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    cleanups.push(() => pc.close());
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    await expect(WebRtcLeg.answer('x', await gathered(pc), config)).rejects.toThrow(/audio/);
  });
});
