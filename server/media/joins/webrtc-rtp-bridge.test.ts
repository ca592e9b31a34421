import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtcpRrPacket, RtcpSrPacket, RtpHeader, RtpPacket } from 'werift';
import type { RtcpPacket, RTCRtpTransceiver } from 'werift';
import { MediaBridge } from './bridge';
import { DtmfReceiver, parseTelephoneEvent, serializeTelephoneEvent } from '../legs/dtmf';
import { answerOffer, chooseBridgeCodecs, createOffer } from '../legs/legs';
import type { DtmfEvent, MediaConfig } from '../legs/media-leg';
import { pcmu, phoneOffer, rtpPeer, until } from '../legs/rtp-peer.test-helper';
import type { RtpPeer } from '../legs/rtp-peer.test-helper';
import { nativeRelayInUse } from '../native/rtp-socket';
import { describeAudio, parseSdp } from '../sdp/sdp';


/** A full-ICE WebRTC endpoint on loopback standing in for a browser that offers G.711 and telephone-event. */
function browser() {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: {
      audio: [
        new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 101 }),
      ],
    },
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  const transceiver: RTCRtpTransceiver = pc.addTransceiver(track, { direction: 'sendrecv' });
  const audio: RtpPacket[] = [];
  const events: RtpPacket[] = [];
  pc.onTrack.subscribe((remote) =>
    remote.onReceiveRtp.subscribe((rtp) => (rtp.header.payloadType === 101 ? events : audio).push(rtp)),
  );
  /** Sends an RFC 4733 key press the way a browser's RTCDTMFSender does: event packets in the audio SSRC. */
  const sendKey = async (event: number, timestamp: number) => {
    let seq = 30_000;
    for (const [end, duration] of [[false, 160], [false, 480], [true, 800], [true, 800], [true, 800]] as const) {
      const header = new RtpHeader({ payloadType: 101, sequenceNumber: seq++, timestamp, ssrc: transceiver.sender.ssrc, marker: seq === 30_001 });
      await transceiver.sender.dtlsTransport.sendRtp(serializeTelephoneEvent({ event, end, volume: 10, duration }), header);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** Audio in one stream, as a browser sends it: sequence numbers only go forward, which SRTP's replay check holds to. */
  let sequence = 0;
  const sendAudio = () => track.writeRtp(pcmu(0xa1, ++sequence, 1111));
  return { pc, track, transceiver, audio, events, sendKey, sendAudio };
}
type Browser = ReturnType<typeof browser>;

async function gathered(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
  return pc.localDescription!.sdp;
}

/** Sends packets both ways until each side has heard `count` of them. */
async function talk(web: Browser, phone: RtpPeer, phonePort: number, count = 10): Promise<void> {
  const heardByPhone = () => phone.received.filter((p) => p.header.payloadType === 0).length;
  const goal = { web: web.audio.length + count, phone: heardByPhone() + count };
  for (let seq = 1; seq <= 100 && (web.audio.length < goal.web || heardByPhone() < goal.phone); seq++) {
    web.sendAudio();
    phone.send(pcmu(0xb2, seq, 2222), phonePort);
    await new Promise((r) => setTimeout(r, 20));
  }
  await until(() => web.audio.length >= goal.web && heardByPhone() >= goal.phone);
}

function keysFrom(packets: RtpPacket[]): DtmfEvent[] {
  const receiver = new DtmfReceiver(8000);
  return packets.flatMap((p) => receiver.push(p.header.timestamp, p.payload));
}

describe.each([
  ['the native relay', true],
  ["werift's SRTP and Node sockets", false],
])('bridging a WebRTC device and a plain RTP device through %s', (_name, nativeRelay) => {
  const config: MediaConfig = { address: '127.0.0.1', nativeRelay };
  const inC = nativeRelay && nativeRelayInUse();
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  /** Browser calls phone: the browser's offer is answered by a WebRTC leg, the phone is offered an RTP leg. */
  async function browserCallsPhone(legConfig: MediaConfig = config) {
    const web = browser();
    const phone = await rtpPeer();
    cleanups.push(() => web.pc.close(), () => phone.close());
    await web.pc.setLocalDescription(await web.pc.createOffer());
    const offer = await gathered(web.pc);
    const codecs = chooseBridgeCodecs(offer, ['rtp']);
    expect(codecs.map((c) => c.mimeType)).toEqual(['audio/PCMU']);
    const { leg: caller, answerSdp } = await answerOffer('caller', offer, legConfig, { allowedCodecs: codecs });
    await web.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    expect(answerSdp).toContain('telephone-event/8000');

    const { leg: callee, offerSdp } = await createOffer('callee', 'rtp', legConfig, [caller.codec!]);
    const phonePort = describeAudio(parseSdp(offerSdp)).port;
    await callee.acceptAnswer(phoneOffer(phone.port).replace(' 0 8 101', ' 0 101'));
    const bridge = new MediaBridge(caller, callee);
    cleanups.push(() => bridge.close());
    await until(() => caller.state === 'connected');
    return { web, phone, phonePort, caller, callee, bridge };
  }

  /** Phone calls browser: the phone's offer is answered by an RTP leg, the browser is offered a WebRTC leg. */
  async function phoneCallsBrowser() {
    const web = browser();
    const phone = await rtpPeer();
    cleanups.push(() => web.pc.close(), () => phone.close());
    const offer = phoneOffer(phone.port);
    const { leg: caller, answerSdp } = await answerOffer('caller', offer, config, { allowedCodecs: chooseBridgeCodecs(offer, ['webrtc']) });
    expect(caller.kind).toBe('rtp');
    const phonePort = describeAudio(parseSdp(answerSdp)).port;

    const { leg: callee, offerSdp } = await createOffer('callee', 'webrtc', config, [caller.codec!]);
    expect(callee.kind).toBe('webrtc');
    await web.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await web.pc.setLocalDescription(await web.pc.createAnswer());
    await callee.acceptAnswer(await gathered(web.pc));
    const bridge = new MediaBridge(caller, callee);
    cleanups.push(() => bridge.close());
    await until(() => callee.state === 'connected');
    return { web, phone, phonePort, caller, callee, bridge };
  }

  it('browser calls phone: PCMU flows both ways with payloads intact', async () => {
    const { web, phone, phonePort, caller, callee } = await browserCallsPhone();
    expect(caller.kind).toBe('webrtc');
    expect(callee.kind).toBe('rtp');
    // The browser's SRTP is in the relay exactly when the relay is built and not turned off for these legs;
    // then its audio crosses in C, and hardly any comes up through the bridge (the phone's first packet, which
    // latches its address; one in 65 later, when the relay's record for RTCP is full).
    expect(caller.relaySocket() !== undefined).toBe(inC);
    const throughBridge = { caller: 0, callee: 0 };
    caller.on('rtp', () => throughBridge.caller++);
    callee.on('rtp', () => throughBridge.callee++);
    await talk(web, phone, phonePort, 20);
    if (inC) expect(throughBridge.caller + throughBridge.callee).toBeLessThanOrEqual(2);
    else expect(throughBridge.caller).toBeGreaterThanOrEqual(20);
    expect(web.audio.every((p) => p.header.payloadType === 0 && p.payload.equals(Buffer.alloc(160, 0xb2)))).toBe(true);
    const heard = phone.received.filter((p) => p.header.payloadType === 0);
    expect(heard.every((p) => p.payload.equals(Buffer.alloc(160, 0xa1)))).toBe(true);
  });

  it('phone calls browser: PCMU flows both ways with payloads intact', async () => {
    const { web, phone, phonePort, callee } = await phoneCallsBrowser();
    expect(callee.relaySocket() !== undefined).toBe(inC);
    await talk(web, phone, phonePort);
    expect(web.audio.every((p) => p.header.payloadType === 0 && p.payload.equals(Buffer.alloc(160, 0xb2)))).toBe(true);
    expect(phone.received.every((p) => p.header.payloadType === 0 && p.payload.equals(Buffer.alloc(160, 0xa1)))).toBe(true);
  });

  it('relays key presses as RFC 4733 events in both directions, never as audio', async () => {
    const { web, phone, phonePort } = await phoneCallsBrowser();
    await talk(web, phone, phonePort, 3);
    const audioBefore = web.audio.length;

    // the phone presses 7
    let seq = 900;
    for (const [end, duration] of [[false, 160], [false, 480], [true, 960], [true, 960], [true, 960]] as const) {
      phone.send(new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: seq++, timestamp: 48_000, ssrc: 2222 }), serializeTelephoneEvent({ event: 7, end, volume: 10, duration })), phonePort);
    }
    await until(() => keysFrom(web.events).length === 1);
    expect(keysFrom(web.events)).toEqual([{ digit: '7', durationMs: 120 }]);
    expect(web.audio.length).toBe(audioBefore);
    expect(web.events.filter((p) => p.header.marker)).toHaveLength(1);

    // the browser presses #
    await web.sendKey(11, 123_456);
    const phoneEvents = () => phone.received.filter((p) => p.header.payloadType === 101);
    await until(() => keysFrom(phoneEvents()).length === 1);
    expect(keysFrom(phoneEvents())).toEqual([{ digit: '#', durationMs: 100 }]);
    expect(phone.received.filter((p) => p.header.payloadType === 0).every((p) => p.payload.length === 160)).toBe(true);
    expect(phoneEvents().every((p) => parseTelephoneEvent(p.payload)?.event === 11)).toBe(true);
  });

  // The relay's own reports; werift's receiver reports on its own path. Where the relay is not built, the
  // status test in native-relay.test.ts prints why.
  if (nativeRelay) it.skipIf(!nativeRelayInUse())(
    "reports in SRTCP on what the relay carried, once it has the leg's SRTP: what went to the browser, and what it heard",
    async () => {
      const { web, phone, phonePort } = await browserCallsPhone({ ...config, rtcpIntervalMs: 200 });
      const reports: RtcpPacket[] = [];
      web.transceiver.sender.dtlsTransport.onRtcp.subscribe((packet) => reports.push(packet));
      await talk(web, phone, phonePort, 40);
      const sentByBrowser = web.transceiver.sender.ssrc;
      const lastSent = (web.transceiver.sender as unknown as { sequenceNumber: number }).sequenceNumber;
      const heard = web.audio.length;
      const pbxSsrc = web.audio[0]!.header.ssrc;
      const senderReport = () => reports.find((p): p is RtcpSrPacket => p instanceof RtcpSrPacket && p.ssrc === pbxSsrc && p.senderInfo.packetCount >= heard);
      const block = () =>
        reports
          .flatMap((p) => (p instanceof RtcpSrPacket || p instanceof RtcpRrPacket ? p.reports : []))
          .find((b) => b.ssrc === sentByBrowser && (b.highestSequence & 0xffff) === lastSent);
      await until(() => senderReport() !== undefined && block() !== undefined, 5_000);
      expect(senderReport()!.senderInfo.octetCount).toBe(senderReport()!.senderInfo.packetCount * 160);
      expect(block()!.packetsLost).toBe(0);
    },
  );

  it('browser holds and resumes: the re-offer is answered recvonly and no audio flows while held', async () => {
    const { web, phone, phonePort, caller, bridge } = await browserCallsPhone();
    await talk(web, phone, phonePort, 3);

    web.transceiver.setDirection('sendonly');
    await web.pc.setLocalDescription(await web.pc.createOffer());
    const held = await caller.renegotiate(web.pc.localDescription!.sdp);
    expect(describeAudio(parseSdp(held)).direction).toBe('recvonly');
    await web.pc.setRemoteDescription({ type: 'answer', sdp: held });
    expect(caller.remoteDirection).toBe('sendonly');
    expect(bridge.relaysAudio()).toBe(false);

    const before = { web: web.audio.length, phone: phone.received.length };
    for (let seq = 200; seq < 215; seq++) {
      web.sendAudio();
      phone.send(pcmu(0xb2, seq, 2222), phonePort);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(web.audio.length).toBe(before.web);
    expect(phone.received.length).toBe(before.phone);

    web.transceiver.setDirection('sendrecv');
    await web.pc.setLocalDescription(await web.pc.createOffer());
    const resumed = await caller.renegotiate(web.pc.localDescription!.sdp);
    expect(describeAudio(parseSdp(resumed)).direction).toBe('sendrecv');
    await web.pc.setRemoteDescription({ type: 'answer', sdp: resumed });
    expect(bridge.relaysAudio()).toBe(true);
    await talk(web, phone, phonePort, 5);
  });

  it('phone holds with a=inactive: answered inactive, the browser hears nothing', async () => {
    const { web, phone, phonePort, caller, bridge } = await phoneCallsBrowser();
    await talk(web, phone, phonePort, 3);
    const held = await caller.renegotiate(phoneOffer(phone.port, 'a=inactive'));
    expect(describeAudio(parseSdp(held)).direction).toBe('inactive');
    expect(bridge.relaysAudio()).toBe(false);
    const before = { web: web.audio.length, phone: phone.received.length };
    for (let seq = 300; seq < 310; seq++) {
      web.sendAudio();
      phone.send(pcmu(0xb2, seq, 2222), phonePort);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(web.audio.length).toBe(before.web);
    expect(phone.received.length).toBe(before.phone);
  });
});

describe('chooseBridgeCodecs', () => {
  const chromeLike = (formats: string, maps: string[]) =>
    ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', `m=audio 9 UDP/TLS/RTP/SAVPF ${formats}`, ...maps, ''].join('\r\n');
  const offer = chromeLike('111 9 0 8 126', ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:126 telephone-event/8000']);

  it('keeps Opus first when every callee is WebRTC', () => {
    expect(chooseBridgeCodecs(offer, ['webrtc', 'webrtc']).map((c) => `${c.payloadType} ${c.mimeType}`)).toEqual(['111 audio/opus', '0 audio/PCMU', '8 audio/PCMA']);
  });

  it('offers only G.711, PCMU first, when any callee is plain RTP', () => {
    expect(chooseBridgeCodecs(offer, ['webrtc', 'rtp']).map((c) => c.mimeType)).toEqual(['audio/PCMU', 'audio/PCMA']);
    expect(chooseBridgeCodecs(chromeLike('8 111', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:111 opus/48000/2']), ['rtp']).map((c) => c.mimeType)).toEqual(['audio/PCMA']);
  });

  it('finds nothing when the caller offers no G.711 and a callee needs it', () => {
    expect(chooseBridgeCodecs(chromeLike('111', ['a=rtpmap:111 opus/48000/2']), ['rtp'])).toEqual([]);
  });
});
