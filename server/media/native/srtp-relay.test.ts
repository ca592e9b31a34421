/**
 * The native relay carrying a WebRTC leg's SRTP (native/srtp.c, rtp-socket.ts adoptRtpSocket), checked
 * against werift's SRTP, an implementation of its own: what the far end protects the relay must take, and
 * what the relay protects the far end must take, in both profiles DTLS-SRTP negotiates with browsers,
 * across sequence-number wraps, and never taking a forged or replayed packet.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { OutboundStream, STREAM_SLOTS } from '../legs/outbound-stream';
import { pcmu, rtpPeer, until } from '../legs/rtp-peer.test-helper';
import { adoptRtpSocket, nativeRelayStatus, openRtpSocket, relayStateSlots, Slot } from './rtp-socket';
import type { RtpSocket, SrtpKeys, SrtpPositions } from './rtp-socket';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const relay = nativeRelayStatus();
if (!relay.native) console.log(`SRTP relay tests skipped: the native relay is not in use here (${relay.reason})`);

const PROFILES = [
  ['SRTP_AES128_CM_HMAC_SHA1_80', 0x0001, 14],
  ['SRTP_AEAD_AES_128_GCM', 0x0007, 12],
] as const;

interface Heard {
  message: Buffer;
  decrypted: boolean;
}

describe.skipIf(!relay.native).each(PROFILES)('the native relay with %s', (_name, profile, saltLength) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function udp(): Promise<Socket> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return socket;
  }

  /**
   * A browser (werift's SRTP on a socket of its own), the PBX's ICE socket adopted by the relay, and a desk
   * phone behind a plain relay socket, bridged both ways.
   */
  async function bridged(from?: SrtpPositions) {
    const keys: SrtpKeys = { profile, localKey: randomBytes(16), localSalt: randomBytes(saltLength), remoteKey: randomBytes(16), remoteSalt: randomBytes(saltLength) };
    const browserSrtp = new SrtpSession({
      profile,
      keys: { localMasterKey: keys.remoteKey, localMasterSalt: keys.remoteSalt, remoteMasterKey: keys.localKey, remoteMasterSalt: keys.localSalt },
    });
    const browser = await udp();
    const fromPbx: Buffer[] = [];
    browser.on('message', (message) => fromPbx.push(message));
    const ice = await udp();
    const heardByIce: Buffer[] = [];
    ice.on('message', (message) => heardByIce.push(message));

    const webState = new Float64Array(relayStateSlots());
    const webStream = new OutboundStream(8000, undefined, webState.subarray(Slot.stream, Slot.stream + STREAM_SLOTS), 0xabcdef01);
    const web = adoptRtpSocket(ice, webState, keys, from)!;
    expect(web).toBeDefined();
    cleanups.push(() => web.close());
    const upFromWeb: Heard[] = [];
    web.listen(
      (message, _address, _port, decrypted) => upFromWeb.push({ message, decrypted }),
      () => {},
    );

    const phone = await rtpPeer();
    cleanups.push(() => phone.close());
    const desk = (await openRtpSocket('127.0.0.1', 0, 'relay'))!;
    cleanups.push(() => desk.close());
    const deskStream = new OutboundStream(8000, undefined, desk.state.subarray(Slot.stream, Slot.stream + STREAM_SLOTS), 0x5a5a5a5a);
    const upFromDesk: Buffer[] = [];
    desk.listen((message) => upFromDesk.push(message), () => {});

    const browserAt = { address: '127.0.0.1', port: browser.address().port, literal: true };
    const phoneAt = { address: '127.0.0.1', port: phone.port, literal: true };
    const connect = (receives = true) => {
      web.relay(desk, receives, true, 0, [0], browserAt, browserAt);
      desk.relay(web, true, true, 0, [0], phoneAt, phoneAt);
    };
    connect();
    const browserSends = (packet: RtpPacket) => browser.send(browserSrtp.encrypt(packet.payload, packet.header), ice.address().port, '127.0.0.1');
    const browserHeard = () => fromPbx.map((message) => RtpPacket.deSerialize(browserSrtp.decrypt(message)));
    return { keys, browser, browserSrtp, browserSends, browserHeard, fromPbx, ice, heardByIce, web, webStream, upFromWeb, phone, desk, deskStream, upFromDesk, connect };
  }

  /** Sends packets a few milliseconds apart, so that loopback drops none. */
  async function paced(count: number, send: (i: number) => void): Promise<void> {
    for (let i = 0; i < count; i++) {
      send(i);
      await pause(2);
    }
  }

  it("decrypts the browser's audio and relays it to the phone in the phone's stream, across a sequence-number wrap", async () => {
    const { browserSends, phone, deskStream, upFromWeb } = await bridged();
    await paced(20, (i) => browserSends(pcmu(0x11 + i, (65_526 + i) % 65_536, 0x0b0b0b0b)));
    await until(() => phone.received.length === 20);
    expect(phone.received.map((p) => p.payload[0])).toEqual(Array.from({ length: 20 }, (_, i) => 0x11 + i));
    expect(phone.received.every((p) => p.payload.length === 160 && p.header.ssrc === deskStream.ssrc && p.header.payloadType === 0)).toBe(true);
    const sequence = phone.received.map((p) => p.header.sequenceNumber);
    expect(sequence.slice(1).every((seq, i) => seq === (sequence[i]! + 1) % 65_536)).toBe(true);
    expect(upFromWeb).toEqual([]);
  });

  it("protects the phone's audio for the browser in the leg's SSRC, which werift's SRTP takes across a wrap", async () => {
    const { phone, desk, browserHeard, fromPbx, webStream, web } = await bridged();
    web.state[Slot.stream + 4] = 65_530; // the leg's stream is about to wrap (OutboundStream's LAST_SEQ)
    await paced(20, (i) => phone.send(pcmu(0x21 + i, 1_000 + i), desk.port));
    await until(() => fromPbx.length === 20);
    const heard = browserHeard();
    expect(heard.map((p) => p.payload[0])).toEqual(Array.from({ length: 20 }, (_, i) => 0x21 + i));
    expect(heard.map((p) => p.header.sequenceNumber)).toEqual(Array.from({ length: 20 }, (_, i) => (65_531 + i) % 65_536));
    expect(heard.every((p) => p.header.ssrc === webStream.ssrc && p.payload.length === 160)).toBe(true);
    expect(web.state[Slot.packetsSent]).toBe(20);
  });

  it('drops a forged or replayed packet, and hands up decrypted what it does not relay', async () => {
    const { browserSrtp, browser, ice, phone, upFromWeb, connect } = await bridged();
    const port = ice.address().port;
    const genuine = browserSrtp.encrypt(pcmu(0x31, 500, 0x0b0b0b0b).payload, pcmu(0x31, 500, 0x0b0b0b0b).header);
    // A new index, so that only its tag can tell it from a genuine packet; one bit of its payload flipped.
    const forged = browserSrtp.encrypt(pcmu(0x39, 499, 0x0b0b0b0b).payload, pcmu(0x39, 499, 0x0b0b0b0b).header);
    forged[40]! ^= 0x01;
    browser.send(genuine, port, '127.0.0.1');
    browser.send(genuine, port, '127.0.0.1');
    browser.send(forged, port, '127.0.0.1');
    await until(() => phone.received.length >= 1);
    await pause(100);
    expect(phone.received.map((p) => p.payload.equals(Buffer.alloc(160, 0x31)))).toEqual([true]);

    // A key press (telephone-event) is not audio: it comes up decrypted, as does audio while the leg holds.
    const event = new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: 501, timestamp: 80_000, ssrc: 0x0b0b0b0b, marker: true }), Buffer.from([5, 10, 0, 160]));
    browser.send(browserSrtp.encrypt(event.payload, event.header), port, '127.0.0.1');
    connect(false);
    const held = pcmu(0x32, 502, 0x0b0b0b0b);
    browser.send(browserSrtp.encrypt(held.payload, held.header), port, '127.0.0.1');
    await until(() => upFromWeb.length === 2);
    expect(upFromWeb.every((heard) => heard.decrypted)).toBe(true);
    const [key, audio] = upFromWeb.map((heard) => RtpPacket.deSerialize(heard.message));
    expect([key!.header.payloadType, [...key!.payload]]).toEqual([101, [5, 10, 0, 160]]);
    expect([audio!.header.sequenceNumber, audio!.payload[0]]).toEqual([502, 0x32]);
    expect(phone.received).toHaveLength(1);
  });

  it('hands up STUN and SRTCP as received; relays authentic SRTP from another address too, but never a replay', async () => {
    const { browser, browserSrtp, ice, upFromWeb, phone } = await bridged();
    const other = await udp();
    const port = ice.address().port;
    const stun = Buffer.from('000100002112a442000000000000000000000000', 'hex');
    const rtcp = Buffer.from('81c900070000000100000000', 'hex');
    const heardFirst = browserSrtp.encrypt(pcmu(0x41, 700, 0x0b0b0b0b).payload, pcmu(0x41, 700, 0x0b0b0b0b).header);
    const fresh = browserSrtp.encrypt(pcmu(0x42, 701, 0x0b0b0b0b).payload, pcmu(0x42, 701, 0x0b0b0b0b).header);
    browser.send(stun, port, '127.0.0.1');
    browser.send(rtcp, port, '127.0.0.1');
    browser.send(heardFirst, port, '127.0.0.1');
    await until(() => phone.received.length === 1 && upFromWeb.length === 2);
    // Captured SRTP sent again from anywhere else is a replay. A new authentic packet is the browser's, whichever
    // candidate pair it came on (a browser may move to another pair than the one ICE nominated).
    other.send(heardFirst, port, '127.0.0.1');
    other.send(heardFirst, port, '127.0.0.1');
    other.send(fresh, port, '127.0.0.1');
    await until(() => phone.received.length === 2);
    await pause(100);
    expect(phone.received.map((p) => p.payload[0])).toEqual([0x41, 0x42]);
    expect(upFromWeb.map((heard) => [heard.decrypted, heard.message.toString('hex')])).toEqual([stun, rtcp].map((b) => [false, b.toString('hex')]));
  });

  it("carries on streams from where they stood, across the far end's wrap, and tells where they stand", async () => {
    const ssrc = 0x0c0c0c0c;
    const { browserSrtp, browserSends, phone, web } = await bridged({ inbound: [ssrc, 1, 65_530], outbound: [] });
    // The browser's stream had wrapped once before the relay took over (werift kept its rollover counter).
    browserSrtp.localContext.srtpSSRCStates[ssrc] = { ssrc, rolloverCounter: 1, lastSequenceNumber: 65_530 };
    await paced(10, (i) => browserSends(pcmu(0x61 + i, (65_531 + i) % 65_536, ssrc)));
    await until(() => phone.received.length === 10);
    expect(phone.received.map((p) => p.payload[0])).toEqual(Array.from({ length: 10 }, (_, i) => 0x61 + i));
    expect(web.positions().inbound).toEqual([ssrc, 2, 4]);
  });

  it("carries on the leg's own stream from where werift left it, so the browser's rollover counter still matches", async () => {
    const ours = 0xabcdef01;
    const { browser, browserSrtp, browserHeard, fromPbx, web } = await bridged({ inbound: [], outbound: [ours, 1, 65_534] });
    // The browser has heard our stream wrap once already.
    browserSrtp.remoteContext.srtpSSRCStates[ours] = { ssrc: ours, rolloverCounter: 1, lastSequenceNumber: 65_534, rolloverHasProcessed: true };
    const to = { address: '127.0.0.1', port: browser.address().port, literal: true };
    await paced(4, (i) => web.send(pcmu(0x71 + i, (65_535 + i) % 65_536, ours).serialize(), to));
    await until(() => fromPbx.length === 4);
    expect(browserHeard().map((p) => [p.header.sequenceNumber, p.payload[0]])).toEqual([
      [65_535, 0x71],
      [0, 0x72],
      [1, 0x73],
      [2, 0x74],
    ]);
    expect(web.positions().outbound).toEqual([ours, 2, 2]);
  });

  it('protects what the leg sends itself, never twice at one index, and refuses a profile it does not protect', async () => {
    const { web, browser, browserHeard, fromPbx } = await bridged();
    const to = { address: '127.0.0.1', port: browser.address().port, literal: true };
    web.send(pcmu(0x51, 9, 0xabcdef01).serialize(), to);
    // The same sequence number again would reuse the first packet's IV (in GCM, giving its key away).
    web.send(pcmu(0x52, 9, 0xabcdef01).serialize(), to);
    web.send(pcmu(0x53, 10, 0xabcdef01).serialize(), to);
    await until(() => fromPbx.length === 2);
    await pause(100);
    expect(browserHeard().map((p) => [p.header.sequenceNumber, p.payload[0], p.payload.length])).toEqual([
      [9, 0x51, 160],
      [10, 0x53, 160],
    ]);
    expect(web.positions().outbound).toEqual([0xabcdef01, 0, 10]);

    const unkeyed = await udp();
    const state = new Float64Array(relayStateSlots());
    const wrongProfile = adoptRtpSocket(unkeyed, state, { profile: 0x0002, localKey: randomBytes(16), localSalt: randomBytes(14), remoteKey: randomBytes(16), remoteSalt: randomBytes(14) });
    expect(wrongProfile).toBeUndefined();
  });
});

describe.skipIf(!relay.native)('an adopted socket', () => {
  it('leaves Node reading no more, gives the socket back when closed, and frees its port with it', async () => {
    const ice = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => ice.bind(0, '127.0.0.1', resolve));
    const port = ice.address().port;
    const heardByNode: Buffer[] = [];
    ice.on('message', (message) => heardByNode.push(message));
    const socket: RtpSocket = adoptRtpSocket(ice, new Float64Array(relayStateSlots()), { profile: 1, localKey: randomBytes(16), localSalt: randomBytes(14), remoteKey: randomBytes(16), remoteSalt: randomBytes(14) })!;
    const heardByRelay: Buffer[] = [];
    socket.listen((message) => heardByRelay.push(message), () => {});
    const sender = dgram.createSocket('udp4');
    sender.send(Buffer.from('hello'), port, '127.0.0.1');
    await until(() => heardByRelay.length === 1);
    expect(heardByNode).toEqual([]);

    socket.close();
    sender.send(Buffer.from('again'), port, '127.0.0.1');
    await until(() => heardByNode.length === 1);
    expect(heardByRelay).toHaveLength(1);
    await new Promise<void>((resolve) => ice.close(() => resolve()));
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', resolve);
    });
    again.close();
    sender.close();
  });
});
