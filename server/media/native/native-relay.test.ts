/**
 * Two desk phones bridged through two plain RTP legs, once with the native relay's sockets (where the audio
 * is relayed in C) and once with Node's (where it goes through MediaBridge): what the phones receive must be
 * the same stream either way, and the RTCP figures the legs report must count every packet.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { MediaBridge } from '../joins/bridge';
import { serializeTelephoneEvent } from '../legs/dtmf';
import type { MediaConfig } from '../legs/media-leg';
import { RtpLeg } from '../legs/rtp-leg';
import { pcmu, phoneOffer, rtpPeer, until } from '../legs/rtp-peer.test-helper';
import type { RtpPeer } from '../legs/rtp-peer.test-helper';
import { nativeRelayInUse, nativeRelayStatus } from './rtp-socket';
import { describeAudio, parseSdp } from '../sdp/sdp';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('native media relay', () => {
  it('is built and in use in CI on Linux, where npm install builds it; elsewhere says why not', () => {
    const status = nativeRelayStatus();
    if (process.platform === 'linux' && process.env.CI === 'true' && process.env.OFFHOOK_NATIVE_RELAY !== '0') expect(status).toEqual({ native: true });
    else if (!status.native) {
      console.log(`native relay not in use here: ${status.reason}`);
      expect(status.reason).toMatch(/built|load|OFFHOOK_NATIVE_RELAY|layout/);
    }
  });
});

describe.each([
  ['the native relay', true],
  ['Node sockets', false],
])('two desk phones bridged through %s', (_name, nativeRelay) => {
  const config: MediaConfig = { address: '127.0.0.1', nativeRelay, rtcpIntervalMs: 300 };
  const relaysInC = nativeRelay && nativeRelayInUse();
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function bridgedPhones(extraA = '', extraB = '') {
    const phoneA = await rtpPeer();
    const phoneB = await rtpPeer();
    cleanups.push(() => phoneA.close(), () => phoneB.close());
    const { leg: a, answerSdp } = await RtpLeg.answer('a', phoneOffer(phoneA.port, extraA), config);
    const { leg: b, offerSdp } = await RtpLeg.offer('b', config, [a.codec!]);
    await b.acceptAnswer(phoneOffer(phoneB.port, extraB).replace(' 0 8 101', ' 0 101'));
    const bridge = new MediaBridge(a, b);
    cleanups.push(() => bridge.close());
    const relayedByBridge = { a: 0 };
    a.on('rtp', () => relayedByBridge.a++);
    return { phoneA, phoneB, a, b, portA: describeAudio(parseSdp(answerSdp)).port, portB: describeAudio(parseSdp(offerSdp)).port, relayedByBridge };
  }

  /** Sends packets a few milliseconds apart and waits until `to` has heard `expected` packets in all. */
  async function stream(from: RtpPeer, port: number, packets: RtpPacket[], to: RtpPeer, expected: number): Promise<void> {
    for (const packet of packets) {
      from.send(packet, port);
      await pause(2);
    }
    await until(() => to.received.length >= expected);
  }

  it('relays one continuous stream: gaps and reordering kept, a new source re-based with the marker, key presses slotted in', async () => {
    const { phoneA, phoneB, a, b, portA, relayedByBridge } = await bridgedPhones();
    const sent = [1, 2, 3, 4, 6, 5, 7, 8, 10, 11, 12];
    await stream(phoneA, portA, sent.map((seq) => pcmu(seq, seq, 0xaaaa)), phoneB, sent.length);
    const first = phoneB.received[0]!.header;
    for (const [i, packet] of phoneB.received.entries()) {
      // The same distance from the first packet as on the phone's side, in sequence and in time.
      expect((packet.header.sequenceNumber - first.sequenceNumber + 0x10000) % 0x10000).toBe(sent[i]! - 1);
      expect((packet.header.timestamp - first.timestamp + 2 ** 32) % 2 ** 32).toBe((sent[i]! - 1) * 160);
      expect(packet.header.ssrc).toBe(first.ssrc);
      expect(packet.header.marker).toBe(i === 0);
      expect(packet.payload[0]).toBe(sent[i]);
    }
    // Only the first packet, which latched the phone's address, went through the bridge's events.
    expect(relayedByBridge.a).toBe(relaysInC ? 1 : sent.length);
    expect(a.packetsReceived).toBe(sent.length);

    // The phone restarts its stream (a new SSRC, as after a transfer): ours goes on by one, marked.
    const before = phoneB.received.length;
    await pause(100);
    await stream(phoneA, portA, [pcmu(40, 5000, 0xcccc), pcmu(41, 5001, 0xcccc)], phoneB, before + 2);
    const [restart, next] = phoneB.received.slice(before).map((p) => p.header);
    expect(restart!.ssrc).toBe(first.ssrc);
    expect(restart!.sequenceNumber).toBe((first.sequenceNumber + 12) % 0x10000);
    expect(restart!.marker).toBe(true);
    // Timestamps advance by the time that passed (at least the 100 ms pause, 800 samples at 8 kHz).
    const elapsed = (restart!.timestamp - first.timestamp - 11 * 160 + 2 ** 32) % 2 ** 32;
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(8000 * 5);
    expect(next!.sequenceNumber).toBe((restart!.sequenceNumber + 1) % 0x10000);
    expect(next!.timestamp).toBe((restart!.timestamp + 160) % 2 ** 32);
    expect(next!.marker).toBe(false);

    // A key press from phone A goes to phone B as RFC 4733 events in the same stream, while audio goes on:
    // every packet phone B hears has its own sequence number. The numbers of the phone's own five event
    // packets stay unused: relayed audio keeps its distance from what came before.
    const dtmfFrom = phoneB.received.length;
    for (const [i, end] of [false, false, true, true, true].entries()) {
      const event = serializeTelephoneEvent({ event: 5, end, volume: 10, duration: 160 * (i + 1) });
      phoneA.send(new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: 5002 + i, timestamp: 5002 * 160, ssrc: 0xcccc, marker: i === 0 }), event), portA);
      await pause(2);
    }
    const audio = Array.from({ length: 20 }, (_, i) => pcmu(60 + i, 5007 + i, 0xcccc));
    for (const packet of audio) {
      phoneA.send(packet, portA);
      await pause(10);
    }
    await until(() => phoneB.received.slice(dtmfFrom).filter((p) => p.header.payloadType === 101).length >= 3 && phoneB.received.length >= dtmfFrom + 23);
    const after = phoneB.received.slice(dtmfFrom).map((p) => p.header.sequenceNumber);
    expect(new Set(after).size).toBe(after.length);
    const span = (Math.max(...after) - Math.min(...after) + 1) % 0x10000;
    expect(span).toBe(after.length + 5);

    // A stray source is not relayed once the phone is latched, and a closed peer receives nothing.
    const stray = await rtpPeer();
    cleanups.push(() => stray.close());
    const heard = phoneB.received.length;
    for (let seq = 1; seq <= 5; seq++) stray.send(pcmu(0xee, seq, 0xeeee), portA);
    await pause(100);
    expect(phoneB.received.length).toBe(heard);
    b.close();
    for (let seq = 6000; seq < 6005; seq++) phoneA.send(pcmu(1, seq, 0xcccc), portA);
    await pause(100);
    expect(phoneB.received.length).toBe(heard);
    expect(a.state).toBe('connected');
  });

  it('relays from two legs into one, as from two forks sending early media to the caller, and on after one goes', async () => {
    const caller = await rtpPeer();
    const forks = [await rtpPeer(), await rtpPeer()];
    cleanups.push(() => caller.close(), ...forks.map((phone) => () => phone.close()));
    const { leg: origin } = await RtpLeg.answer('origin', phoneOffer(caller.port), config);
    const legs = await Promise.all(forks.map(async (phone, i) => {
      const { leg, offerSdp } = await RtpLeg.offer(`fork${i}`, config, [origin.codec!]);
      await leg.acceptAnswer(phoneOffer(phone.port).replace(' 0 8 101', ' 0 101'));
      const bridge = new MediaBridge(origin, leg);
      cleanups.push(() => bridge.close());
      const viaBridge = { count: 0 };
      leg.on('rtp', () => viaBridge.count++);
      return { leg, port: describeAudio(parseSdp(offerSdp)).port, viaBridge };
    }));
    const sendFromBoth = async (first: number, last: number) => {
      for (let seq = first; seq <= last; seq++) {
        forks.forEach((phone, i) => phone.send(pcmu(i, seq, 0xf0 + i), legs[i]!.port));
        await pause(3);
      }
    };
    await sendFromBoth(1, 10);
    await until(() => caller.received.length === 20);
    // Each fork's leg is bridged to the caller's alone: after its first packet, the relay takes its audio.
    expect(legs.map(({ viaBridge }) => viaBridge.count)).toEqual(relaysInC ? [1, 1] : [10, 10]);
    legs[1]!.leg.close();
    await sendFromBoth(11, 20);
    await until(() => caller.received.length === 30);
    expect(legs[0]!.viaBridge.count).toBe(relaysInC ? 1 : 20);
  });

  it('lives with addresses it cannot send to: an IPv6 zone on an IPv4 leg, RTP on port 65535 with no port above for RTCP', async () => {
    const phone = await rtpPeer();
    cleanups.push(() => phone.close());
    const odd = [
      phoneOffer(1).replace('c=IN IP4 127.0.0.1', 'c=IN IP6 fe80::1%lo').replace('m=audio 1 ', 'm=audio 4000 '),
      phoneOffer(1).replace('m=audio 1 ', 'm=audio 65535 '),
    ];
    const fast = { ...config, rtcpIntervalMs: 20 };
    for (const offer of odd) {
      const { leg: a, answerSdp } = await RtpLeg.answer('a', phoneOffer(phone.port), fast);
      const { leg: b } = await RtpLeg.answer('b', offer, fast);
      const bridge = new MediaBridge(a, b);
      cleanups.push(() => bridge.close());
      // Audio for b goes to where its phone said, which cannot be reached; reports go out every 10–30 ms.
      for (let seq = 1; seq <= 10; seq++) phone.send(pcmu(1, seq), describeAudio(parseSdp(answerSdp)).port);
      b.sendDtmf({ digit: '5', durationMs: 40 });
      await pause(150);
      expect([a.state, b.state]).toEqual(['connected', 'connected']);
    }
  });

  it('reports in RTCP every packet relayed: highest sequence and no loss to the sender, the packet count to the receiver', async () => {
    // Each phone names its RTCP port with a=rtcp (RFC 3605).
    const rtcpSocket = async (reports: Buffer[]) => {
      const rtcp = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => rtcp.bind(0, '127.0.0.1', resolve));
      rtcp.on('message', (message) => reports.push(message));
      cleanups.push(() => rtcp.close());
      return rtcp.address().port;
    };
    const reportsA: Buffer[] = [];
    const reportsB: Buffer[] = [];
    const [rtcpA, rtcpB] = [await rtcpSocket(reportsA), await rtcpSocket(reportsB)];
    const { phoneA, phoneB, portA } = await bridgedPhones(`a=rtcp:${rtcpA}`, `a=rtcp:${rtcpB}`);
    // More than the relay's record holds between two reports (64), so it also hands some up on the way.
    const count = 300;
    for (let seq = 1; seq <= count; seq++) {
      phoneA.send(pcmu(seq & 0xff, 1000 + seq, 0xaaaa), portA);
      if (seq % 10 === 0) await pause(3);
    }
    await until(() => phoneB.received.length === count);
    // Reports come every 150–450 ms; the first after the last packet counts all of them.
    const highestSeq = (report: Buffer) => report.readUInt32BE(16);
    const sentPackets = (report: Buffer) => report.readUInt32BE(20);
    await until(() => reportsA.some((r) => r[1] === 201 && highestSeq(r) === 1000 + count) && reportsB.some((r) => r[1] === 200 && sentPackets(r) === count), 5_000);

    // To phone A: receiver reports (the leg sent it nothing), whose block on A's stream shows no loss.
    const toA = reportsA.find((r) => r[1] === 201 && highestSeq(r) === 1000 + count)!;
    const blockA = toA.subarray(8, 32);
    expect(blockA.readUInt32BE(0)).toBe(0xaaaa);
    expect(blockA.readUInt32BE(4) & 0xffffff).toBe(0); // cumulative lost
    // To phone B: a sender report counting what the leg sent it.
    const toB = reportsB.find((r) => r[1] === 200 && sentPackets(r) === count)!;
    expect(toB.readUInt32BE(24)).toBe(count * 160); // sender's octet count
    expect(toB.readUInt32BE(4)).toBe(phoneB.received[0]!.header.ssrc);
  });
});
