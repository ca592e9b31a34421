/**
 * How much the anchored media path costs with werift: N concurrent calls, each a pair of WebRTC endpoints
 * sending 20 ms audio packets (50 packets/s each way), either bridged through the PBX's media legs
 * (endpoint ⇄ WebRtcLeg ⇄ MediaBridge ⇄ WebRtcLeg ⇄ endpoint) or connected directly to each other as the
 * reference. Everything runs in this process on loopback, so the difference in CPU time between the two
 * runs is what anchoring adds: two extra DTLS-SRTP legs and the relay.
 */
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { MediaBridge } from '../server/media/bridge';
import { WebRtcLeg } from '../server/media/webrtc-leg';

const LOOPBACK = { address: '127.0.0.1' };
const PACKET_MS = 20;
const PAYLOAD = Buffer.alloc(80, 0x55); // about a 32 kbit/s Opus frame

interface Endpoint {
  pc: RTCPeerConnection;
  track: MediaStreamTrack;
  received: number;
}

function endpoint(): Endpoint {
  const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendrecv' });
  const e: Endpoint = { pc, track, received: 0 };
  pc.onTrack.subscribe((remote) => remote.onReceiveRtp.subscribe(() => (e.received += 1)));
  return e;
}

async function sdp(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 5));
  return pc.localDescription?.sdp ?? '';
}

async function connected(pc: RTCPeerConnection): Promise<void> {
  const end = Date.now() + 15_000;
  while (pc.connectionState !== 'connected') {
    if (Date.now() > end) throw new Error('endpoint did not connect');
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface CallPair {
  a: Endpoint;
  b: Endpoint;
  close(): Promise<void>;
}

async function directCall(): Promise<CallPair> {
  const a = endpoint();
  const b = endpoint();
  await a.pc.setLocalDescription(await a.pc.createOffer());
  await b.pc.setRemoteDescription({ type: 'offer', sdp: await sdp(a.pc) });
  await b.pc.setLocalDescription(await b.pc.createAnswer());
  await a.pc.setRemoteDescription({ type: 'answer', sdp: await sdp(b.pc) });
  await Promise.all([connected(a.pc), connected(b.pc)]);
  return { a, b, close: async () => void (await Promise.all([a.pc.close(), b.pc.close()])) };
}

async function bridgedCall(): Promise<CallPair> {
  const a = endpoint();
  const b = endpoint();
  await a.pc.setLocalDescription(await a.pc.createOffer());
  const callerLeg = await WebRtcLeg.answer('bench-a', await sdp(a.pc), LOOPBACK);
  await a.pc.setRemoteDescription({ type: 'answer', sdp: callerLeg.answerSdp });
  const calleeLeg = await WebRtcLeg.offer('bench-b', LOOPBACK, callerLeg.leg.codec ? [callerLeg.leg.codec] : []);
  await b.pc.setRemoteDescription({ type: 'offer', sdp: calleeLeg.offerSdp });
  await b.pc.setLocalDescription(await b.pc.createAnswer());
  await calleeLeg.leg.acceptAnswer(await sdp(b.pc));
  const bridge = new MediaBridge(callerLeg.leg, calleeLeg.leg);
  await Promise.all([connected(a.pc), connected(b.pc)]);
  const end = Date.now() + 15_000;
  while (callerLeg.leg.state !== 'connected' || calleeLeg.leg.state !== 'connected') {
    if (Date.now() > end) throw new Error('media legs did not connect');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    a,
    b,
    close: async () => {
      bridge.close();
      await Promise.all([a.pc.close(), b.pc.close()]);
    },
  };
}

export interface RelayRun {
  mode: 'direct' | 'bridged';
  calls: number;
  seconds: number;
  sent: number;
  received: number;
  lossPercent: number;
  cpuMsPerCallSecond: number;
}

export async function runRelay(mode: 'direct' | 'bridged', calls: number, seconds: number): Promise<RelayRun> {
  const pairs: CallPair[] = [];
  for (let i = 0; i < calls; i++) pairs.push(await (mode === 'direct' ? directCall() : bridgedCall()));
  await new Promise((r) => setTimeout(r, 300));
  const ticks = Math.round((seconds * 1000) / PACKET_MS);
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    for (const pair of pairs) {
      const header = (ssrc: number) => new RtpHeader({ payloadType: 111, sequenceNumber: tick & 0xffff, timestamp: tick * 960, ssrc });
      pair.a.track.writeRtp(new RtpPacket(header(1), PAYLOAD));
      pair.b.track.writeRtp(new RtpPacket(header(2), PAYLOAD));
      sent += 2;
    }
    const due = started + (tick + 1) * PACKET_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 300));
  const cpu = process.cpuUsage(cpuBefore);
  const received = pairs.reduce((sum, p) => sum + p.a.received + p.b.received, 0);
  for (const pair of pairs) await pair.close();
  return {
    mode,
    calls,
    seconds,
    sent,
    received,
    lossPercent: Number((((sent - received) / sent) * 100).toFixed(2)),
    cpuMsPerCallSecond: Number(((cpu.user + cpu.system) / 1000 / (calls * seconds)).toFixed(2)),
  };
}
