/**
 * What anchored media costs: N concurrent G.711 calls (20 ms packets, 50 packets/s each way), either bridged
 * through the PBX's media legs or, as the reference, between the same kinds of endpoints with nothing in
 * between. Three bridges, as calls cross the PBX:
 *   rtp-rtp        UDP endpoint ⇄ RtpLeg ⇄ (native relay) ⇄ RtpLeg ⇄ UDP endpoint       (desk phone to desk phone)
 *   rtp-rtp-node   the same through Node's sockets and MediaBridge, as where the native relay is not built
 *   webrtc-rtp     werift peer ⇄ WebRtcLeg (DTLS-SRTP, in the native relay) ⇄ RtpLeg ⇄ UDP endpoint (browser to desk phone)
 *   webrtc-rtp-werift  the same with werift's SRTP and Node's sockets, as where the native relay is not built
 *   webrtc-webrtc  werift peer ⇄ WebRtcLeg ⇄ (native relay) ⇄ WebRtcLeg ⇄ werift peer   (browser to browser)
 * Everything runs in this process on loopback, so the difference in CPU time between a bridged run and its
 * reference is what anchoring adds; the reference for webrtc-rtp is half a werift pair plus half a UDP pair.
 * Each receiver also keeps the RFC 3550 §A.8 interarrival jitter of what it hears; the bridge's added jitter
 * is the bridged figure less the reference's. Calls per core are 1000 ms over the added CPU ms per call-second.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { MediaBridge } from '../server/media/joins/bridge';
import type { MediaConfig, MediaLeg, NegotiatedCodec } from '../server/media/legs/media-leg';
import { RtpLeg } from '../server/media/legs/rtp-leg';
import { WebRtcLeg } from '../server/media/legs/webrtc-leg';

const LOOPBACK = { address: '127.0.0.1' };
const PACKET_MS = 20;
const SAMPLES_PER_PACKET = 160;
const PAYLOAD = Buffer.alloc(SAMPLES_PER_PACKET, 0xd5); // 20 ms of G.711 µ-law
const PCMU: NegotiatedCodec = { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

export type BridgeKind = 'rtp-rtp' | 'rtp-rtp-node' | 'webrtc-rtp' | 'webrtc-rtp-werift' | 'webrtc-webrtc';
export type Reference = 'udp-pair' | 'webrtc-pair';

/** RFC 3550 §A.8 interarrival jitter, in milliseconds, from arrival times and RTP timestamps. */
class Jitter {
  private last: { arrival: number; timestamp: number } | undefined;
  value = 0;
  received = 0;

  push(timestamp: number): void {
    const arrival = performance.now();
    this.received++;
    if (this.last) {
      const transitChange = arrival - this.last.arrival - ((timestamp - this.last.timestamp) / 8000) * 1000;
      this.value += (Math.abs(transitChange) - this.value) / 16;
    }
    this.last = { arrival, timestamp };
  }
}

interface Endpoint {
  jitter: Jitter;
  send(seq: number): void;
  close(): Promise<void>;
}

function webrtcEndpoint(): Endpoint & { pc: RTCPeerConnection } {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0, rtcpFeedback: [] })] },
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendrecv' });
  const jitter = new Jitter();
  pc.onTrack.subscribe((remote) => remote.onReceiveRtp.subscribe((rtp) => jitter.push(rtp.header.timestamp)));
  return {
    pc,
    jitter,
    send: (seq) => track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * SAMPLES_PER_PACKET, ssrc: 1 }), PAYLOAD)),
    close: async () => pc.close(),
  };
}

/** A desk phone's media: one UDP socket sending PCMU to `target` once it is set. */
async function udpEndpoint(): Promise<Endpoint & { port: number; target?: { port: number } }> {
  const socket: Socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const jitter = new Jitter();
  socket.on('message', (data) => {
    // Only our audio: the legs' RTCP comes here too (rtcp-mux), and is not counted.
    if (data.length >= 12 && (data[1]! & 0x7f) === 0) jitter.push(data.readUInt32BE(4));
  });
  const endpoint: Endpoint & { port: number; target?: { port: number } } = {
    port: socket.address().port,
    jitter,
    send: (seq) => {
      if (!endpoint.target) return;
      const packet = new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * SAMPLES_PER_PACKET, ssrc: 0xdeca }), PAYLOAD);
      socket.send(packet.serialize(), endpoint.target.port, '127.0.0.1');
    },
    close: async () => void socket.close(),
  };
  return endpoint;
}

/** A desk phone's SDP; with rtcp-mux, so that the legs' RTCP comes to the endpoint's own socket. */
function deskSdp(port: number): string {
  return ['v=0', 'o=desk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=rtcp-mux', 'a=sendrecv', ''].join('\r\n');
}

function audioPort(sdp: string): number {
  return Number(/^m=audio (\d+)/m.exec(sdp)?.[1] ?? 0);
}

async function gathered(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 5));
  return pc.localDescription?.sdp ?? '';
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} did not connect`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Call {
  a: Endpoint;
  b: Endpoint;
  close(): Promise<void>;
}

/** The caller's side: a WebRTC or desk phone endpoint and the leg the PBX answers it with. */
async function callerSide(kind: 'webrtc' | 'rtp', id: string, config: MediaConfig): Promise<{ endpoint: Endpoint; leg: MediaLeg; ready: () => boolean }> {
  if (kind === 'webrtc') {
    const endpoint = webrtcEndpoint();
    await endpoint.pc.setLocalDescription(await endpoint.pc.createOffer());
    const { leg, answerSdp } = await WebRtcLeg.answer(id, await gathered(endpoint.pc), LOOPBACK, [PCMU]);
    await endpoint.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    return { endpoint, leg, ready: () => endpoint.pc.connectionState === 'connected' && leg.state === 'connected' };
  }
  const endpoint = await udpEndpoint();
  const { leg, answerSdp } = await RtpLeg.answer(id, deskSdp(endpoint.port), config, [PCMU]);
  endpoint.target = { port: audioPort(answerSdp) };
  return { endpoint, leg, ready: () => leg.state === 'connected' };
}

/** The callee's side: the leg the PBX offers and the endpoint that answers it. */
async function calleeSide(kind: 'webrtc' | 'rtp', id: string, config: MediaConfig): Promise<{ endpoint: Endpoint; leg: MediaLeg; ready: () => boolean }> {
  if (kind === 'webrtc') {
    const { leg, offerSdp } = await WebRtcLeg.offer(id, LOOPBACK, [PCMU]);
    const endpoint = webrtcEndpoint();
    await endpoint.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await endpoint.pc.setLocalDescription(await endpoint.pc.createAnswer());
    await leg.acceptAnswer(await gathered(endpoint.pc));
    return { endpoint, leg, ready: () => endpoint.pc.connectionState === 'connected' && leg.state === 'connected' };
  }
  const { leg, offerSdp } = await RtpLeg.offer(id, config, [PCMU]);
  const endpoint = await udpEndpoint();
  endpoint.target = { port: audioPort(offerSdp) };
  await leg.acceptAnswer(deskSdp(endpoint.port));
  return { endpoint, leg, ready: () => leg.state === 'connected' };
}

async function bridgedCall(kind: BridgeKind, n: number): Promise<Call> {
  const [callerKind, calleeKind] = kind.startsWith('rtp-rtp') ? (['rtp', 'rtp'] as const) : kind.startsWith('webrtc-rtp') ? (['webrtc', 'rtp'] as const) : (['webrtc', 'webrtc'] as const);
  const config: MediaConfig = { ...LOOPBACK, nativeRelay: kind !== 'rtp-rtp-node' && kind !== 'webrtc-rtp-werift' };
  const caller = await callerSide(callerKind, `bench-${n}-a`, config);
  const callee = await calleeSide(calleeKind, `bench-${n}-b`, config);
  const bridge = new MediaBridge(caller.leg, callee.leg);
  await until(() => caller.ready() && callee.ready(), 'bridged call');
  return {
    a: caller.endpoint,
    b: callee.endpoint,
    close: async () => {
      bridge.close();
      await Promise.all([caller.endpoint.close(), callee.endpoint.close()]);
    },
  };
}

async function directCall(reference: Reference): Promise<Call> {
  if (reference === 'udp-pair') {
    const a = await udpEndpoint();
    const b = await udpEndpoint();
    a.target = { port: b.port };
    b.target = { port: a.port };
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  }
  const a = webrtcEndpoint();
  const b = webrtcEndpoint();
  await a.pc.setLocalDescription(await a.pc.createOffer());
  await b.pc.setRemoteDescription({ type: 'offer', sdp: await gathered(a.pc) });
  await b.pc.setLocalDescription(await b.pc.createAnswer());
  await a.pc.setRemoteDescription({ type: 'answer', sdp: await gathered(b.pc) });
  await until(() => a.pc.connectionState === 'connected' && b.pc.connectionState === 'connected', 'direct call');
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

export interface RelayRun {
  mode: BridgeKind | Reference;
  calls: number;
  seconds: number;
  sent: number;
  received: number;
  lossPercent: number;
  cpuMsPerCallSecond: number;
  /** Mean over receivers of RFC 3550 interarrival jitter at the end of the run. */
  jitterMs: number;
}

export async function runRelay(mode: BridgeKind | Reference, calls: number, seconds: number): Promise<RelayRun> {
  const pairs: Call[] = [];
  for (let i = 0; i < calls; i++) pairs.push(await (mode === 'udp-pair' || mode === 'webrtc-pair' ? directCall(mode) : bridgedCall(mode, i)));
  await new Promise((r) => setTimeout(r, 300));
  const ticks = Math.round((seconds * 1000) / PACKET_MS);
  const before = pairs.map((p) => p.a.jitter.received + p.b.jitter.received).reduce((x, y) => x + y, 0);
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let tick = 1; tick <= ticks; tick++) {
    for (const pair of pairs) {
      pair.a.send(tick);
      pair.b.send(tick);
      sent += 2;
    }
    const due = started + tick * PACKET_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 300));
  const cpu = process.cpuUsage(cpuBefore);
  const received = pairs.map((p) => p.a.jitter.received + p.b.jitter.received).reduce((x, y) => x + y, 0) - before;
  const jitters = pairs.flatMap((p) => [p.a.jitter.value, p.b.jitter.value]);
  for (const pair of pairs) await pair.close();
  return {
    mode,
    calls,
    seconds,
    sent,
    received,
    lossPercent: Number(Math.max(0, ((sent - received) / sent) * 100).toFixed(2)),
    cpuMsPerCallSecond: Number(((cpu.user + cpu.system) / 1000 / (calls * seconds)).toFixed(3)),
    jitterMs: Number((jitters.reduce((x, y) => x + y, 0) / jitters.length).toFixed(2)),
  };
}
