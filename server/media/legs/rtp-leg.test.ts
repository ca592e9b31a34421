import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { RtpHeader, RtpPacket } from 'werift';
import { parseTelephoneEvent, serializeTelephoneEvent } from './dtmf';
import { rtpFrame, rtpPayload } from './media-leg';
import type { DtmfEvent, RtpFrame } from './media-leg';
import { readRtp, RtpLeg, rtpBytes } from './rtp-leg';
import { pcmu, pcmuFrame, phoneOffer, rtpPeer, until } from './rtp-peer.test-helper';
import type { RtpPeer } from './rtp-peer.test-helper';
import { describeAudio, parseSdp, SdpError } from '../sdp/sdp';

const config = { address: '127.0.0.1' };

describe('RtpLeg', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function answered(extra = ''): Promise<{ leg: RtpLeg; peer: RtpPeer; answerSdp: string }> {
    const peer = await rtpPeer();
    const { leg, answerSdp } = await RtpLeg.answer('phone', phoneOffer(peer.port, extra), config);
    cleanups.push(() => leg.close(), () => peer.close());
    return { leg, peer, answerSdp };
  }

  it('answers a phone with PCMU and telephone-event on an even port, RTCP beside it', async () => {
    const { leg, answerSdp } = await answered();
    const answer = describeAudio(parseSdp(answerSdp));
    expect(answer).toMatchObject({ address: '127.0.0.1', protocol: 'RTP/AVP', direction: 'sendrecv', ptime: 20, rtcpMux: false });
    expect(answer.port % 2).toBe(0);
    expect(answer.codecs.map((c) => `${c.payloadType} ${c.mimeType}`)).toEqual(['0 audio/PCMU', '101 audio/telephone-event']);
    expect(leg.kind).toBe('rtp');
    expect(leg.state).toBe('connected');
    expect(leg.codec).toMatchObject({ mimeType: 'audio/PCMU', payloadType: 0 });
    // the RTCP port is ours: another socket cannot take it
    const probe = dgram.createSocket('udp4');
    await expect(new Promise((resolve, reject) => probe.once('error', reject).bind(answer.port + 1, '127.0.0.1', () => resolve(undefined)))).rejects.toThrow(/EADDRINUSE/);
    probe.close();
  });

  it('with no range, always puts RTP on an even port and RTCP on the next, whichever the system picked first', async () => {
    const peer = await rtpPeer();
    cleanups.push(() => peer.close());
    for (let i = 0; i < 20; i++) {
      const { leg, answerSdp } = await RtpLeg.answer(`anywhere-${i}`, phoneOffer(peer.port), config);
      cleanups.push(() => leg.close());
      const port = describeAudio(parseSdp(answerSdp)).port;
      expect(port % 2).toBe(0);
      const probe = dgram.createSocket('udp4');
      await expect(new Promise((resolve, reject) => probe.once('error', reject).bind(port + 1, '127.0.0.1', () => resolve(undefined)))).rejects.toThrow(/EADDRINUSE/);
      probe.close();
    }
  });

  it('binds within the configured port range', async () => {
    const peer = await rtpPeer();
    cleanups.push(() => peer.close());
    const { leg, answerSdp } = await RtpLeg.answer('ranged', phoneOffer(peer.port), { address: '127.0.0.1', portRange: [41000, 41009] });
    cleanups.push(() => leg.close());
    const port = describeAudio(parseSdp(answerSdp)).port;
    expect(port).toBeGreaterThanOrEqual(41000);
    expect(port).toBeLessThanOrEqual(41008);
    expect(port % 2).toBe(0);
  });

  it('answers rtcp-mux with rtcp-mux and ignores RTCP on the RTP port', async () => {
    const { leg, peer, answerSdp } = await answered('a=rtcp-mux');
    expect(describeAudio(parseSdp(answerSdp)).rtcpMux).toBe(true);
    const got: RtpFrame[] = [];
    leg.on('rtp', (p) => got.push(p));
    const port = describeAudio(parseSdp(answerSdp)).port;
    // an RTCP receiver report (PT 201) with no report blocks
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0x5e, 0xed]);
    const rtcp = dgram.createSocket('udp4');
    rtcp.send(rr, port, '127.0.0.1', () => rtcp.close());
    peer.send(pcmu(7, 1), port);
    await until(() => got.length === 1);
    expect(rtpPayload(got[0]!).readUInt8(0)).toBe(7);
  });

  it('exchanges G.711 with the phone, rewriting SSRC, sequence and timestamp, and answers where media comes from', async () => {
    const { leg, peer, answerSdp } = await answered();
    const port = describeAudio(parseSdp(answerSdp)).port;
    const got: RtpFrame[] = [];
    leg.on('rtp', (p) => got.push(p));

    // The phone sends from another socket than the one it announced (a NAT); the leg must follow it.
    const natted = await rtpPeer();
    cleanups.push(() => natted.close());
    for (let seq = 1; seq <= 5; seq++) natted.send(pcmu(0x11, seq), port);
    await until(() => got.length === 5);
    expect(got.map((p) => p.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(got.every((p) => rtpPayload(p).equals(Buffer.alloc(160, 0x11)))).toBe(true);

    // A frame as werift hands it over: the payload alone, so the leg builds the packet.
    for (let seq = 1; seq <= 5; seq++) leg.sendRtp(rtpFrame({ payloadType: 0, sequenceNumber: 500 + seq, timestamp: 9000 + seq * 160, ssrc: 42, marker: false }, Buffer.alloc(160, 0x22)));
    await until(() => natted.received.length === 5);
    expect(peer.received).toHaveLength(0);
    const out = natted.received;
    expect(new Set(out.map((p) => p.header.ssrc)).size).toBe(1);
    expect(out[0]?.header.ssrc).not.toBe(42);
    expect(out.every((p) => p.header.payloadType === 0 && p.payload.equals(Buffer.alloc(160, 0x22)))).toBe(true);
    const seqs = out.map((p) => p.header.sequenceNumber);
    expect(seqs.slice(1).map((s, i) => (s - (seqs[i] as number) + 0x10000) % 0x10000)).toEqual([1, 1, 1, 1]);
    const stamps = out.map((p) => p.header.timestamp);
    expect(stamps.slice(1).map((t, i) => t - (stamps[i] as number))).toEqual([160, 160, 160, 160]);
  });

  it('relays a received datagram in place: its own SSRC, sequence and timestamps, the negotiated payload type, no CSRC, extension or padding', async () => {
    const { leg, peer } = await answered();
    const payload = (n: number) => Buffer.alloc(160, n);
    // What another plain RTP leg would hand over: V=2, P=1, X=1, CC=1, PT 96, one CSRC, a one-word extension, padding.
    const datagram = (seq: number, timestamp: number) =>
      Buffer.concat([
        Buffer.from([0xb1, 96, seq >> 8, seq & 0xff, timestamp >>> 24, (timestamp >> 16) & 0xff, (timestamp >> 8) & 0xff, timestamp & 0xff, 0, 0, 0, 77]),
        Buffer.from([0, 0, 0, 99]),
        Buffer.from([0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]),
        payload(seq & 0xff),
        Buffer.from([0, 0, 3]),
      ]);
    const sent = [65534, 65535, 0].map((seq, i) => readRtp(datagram(seq, 4096 + 160 * i))!);
    for (const frame of sent) leg.sendRtp(frame);
    await until(() => peer.received.length === 3);
    const out = peer.received.map((p) => p.header);
    const ssrc = out[0]!.ssrc;
    expect(ssrc).not.toBe(77);
    expect(out.every((h) => h.version === 2 && h.ssrc === ssrc && h.payloadType === 0 && !h.padding && !h.extension && h.csrcLength === 0)).toBe(true);
    expect(out.map((h) => h.marker)).toEqual([true, false, false]); // a new source starts a talkspurt
    expect(out.slice(1).map((h, i) => (h.sequenceNumber - out[i]!.sequenceNumber + 0x10000) % 0x10000)).toEqual([1, 1]);
    expect(out.slice(1).map((h, i) => (h.timestamp - out[i]!.timestamp + 2 ** 32) % 2 ** 32)).toEqual([160, 160]);
    expect(peer.received.map((p) => p.payload)).toEqual([payload(0xfe), payload(0xff), payload(0)]);
    // The header went into the datagram itself, just before the payload, where the extension was.
    const first = sent[0]!;
    expect(first.bytes.readUInt32BE(first.payloadStart - 4)).toBe(ssrc);
    expect(rtpPayload(first).equals(payload(0xfe))).toBe(true);
  });

  it('sends RTCP reports about the stream it receives, to the a=rtcp port and then to where the phone sends its RTCP from', async () => {
    const peer = await rtpPeer();
    const phoneRtcp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => phoneRtcp.bind(0, '127.0.0.1', resolve));
    const reports: Array<{ bytes: Buffer }> = [];
    phoneRtcp.on('message', (bytes) => reports.push({ bytes }));
    const { leg, answerSdp } = await RtpLeg.answer('reports', phoneOffer(peer.port, `a=rtcp:${phoneRtcp.address().port}`), { ...config, rtcpIntervalMs: 100 });
    cleanups.push(() => leg.close(), () => peer.close(), () => phoneRtcp.close());
    const legPort = describeAudio(parseSdp(answerSdp)).port;
    for (let seq = 1; seq <= 30; seq++) if (seq !== 7) peer.send(pcmu(seq, seq), legPort);
    const withBlock = (bytes: Buffer) => (bytes[0]! & 0x1f) === 1;
    await until(() => reports.some((r) => withBlock(r.bytes)));
    // Nothing relayed to the phone yet: a receiver report, with one block on the phone's stream, then SDES.
    const report = reports.find((r) => withBlock(r.bytes))?.bytes ?? Buffer.alloc(0);
    expect(report[0]).toBe(0x81);
    expect(report[1]).toBe(201);
    expect(report.readUInt32BE(8)).toBe(0x5eed);
    expect(report.readIntBE(13, 3)).toBe(1);
    expect(report.readUInt32BE(16)).toBe(30);
    expect(report[33]).toBe(202);

    // The phone's own report comes from another port: ours follow it there, and carry its LSR.
    const elsewhere = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => elsewhere.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => elsewhere.close());
    const followed: Buffer[] = [];
    elsewhere.on('message', (bytes) => followed.push(bytes));
    const sr = Buffer.alloc(28);
    sr.writeUInt16BE(0x80c8, 0);
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(0x5eed, 4);
    sr.writeUInt32BE(0x0000_abcd, 8);
    sr.writeUInt32BE(0x1234_0000, 12);
    elsewhere.send(sr, legPort + 1, '127.0.0.1');
    await until(() => followed.length > 0);
    expect(followed[0]?.readUInt32BE(24)).toBe(0xabcd_1234);
    expect(leg.packetsReceived).toBe(30);

    // Once the leg has sent RTP, it sends a sender report with what it sent.
    for (let seq = 1; seq <= 5; seq++) leg.sendRtp(pcmuFrame(seq, seq, 0x7777));
    await until(() => followed.some((bytes) => bytes[1] === 200));
    const senderReport = followed.find((bytes) => bytes[1] === 200) ?? Buffer.alloc(0);
    expect([senderReport.readUInt32BE(20), senderReport.readUInt32BE(24)]).toEqual([5, 5 * 160]);

    // Closing, it says goodbye (RFC 3550 §6.6).
    leg.close();
    await until(() => followed.some((bytes) => bytes.subarray(-8)[1] === 203));
  });

  it('hears only the source it latched, or the address the phone signalled: packets from anywhere else are dropped', async () => {
    const { leg, peer, answerSdp } = await answered();
    const port = describeAudio(parseSdp(answerSdp)).port;
    const intruder = await rtpPeer();
    cleanups.push(() => intruder.close());
    const heard: number[] = [];
    leg.on('rtp', (frame) => heard.push(frame.bytes[frame.payloadStart]!));
    // The intruder gets there first and is latched, but the phone's signalled address takes the latch back.
    intruder.send(pcmu(0x01, 1, 0xbad), port);
    await until(() => heard.length === 1);
    peer.send(pcmu(0x02, 1), port);
    await until(() => heard.length === 2);
    intruder.send(pcmu(0x03, 2, 0xbad), port);
    intruder.send(pcmu(0x04, 3, 0xbad), port);
    peer.send(pcmu(0x05, 2), port);
    await until(() => heard.length === 3);
    expect(heard).toEqual([0x01, 0x02, 0x05]);
    expect(leg.packetsReceived).toBe(3);
    // What the leg sends goes to the phone, not to the intruder.
    leg.sendRtp(pcmuFrame(0x06, 7));
    await until(() => peer.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(intruder.received).toHaveLength(0);
  });

  it('latches a phone behind NAT, sending from elsewhere than it signalled, and then ignores others', async () => {
    const signalledOnly = await rtpPeer();
    const natted = await rtpPeer();
    const intruder = await rtpPeer();
    const { leg, answerSdp } = await RtpLeg.answer('natted', phoneOffer(signalledOnly.port), config);
    cleanups.push(() => leg.close(), () => signalledOnly.close(), () => natted.close(), () => intruder.close());
    const port = describeAudio(parseSdp(answerSdp)).port;
    const heard: number[] = [];
    leg.on('rtp', (frame) => heard.push(frame.bytes[frame.payloadStart]!));
    natted.send(pcmu(0x11, 1), port);
    await until(() => heard.length === 1);
    intruder.send(pcmu(0x12, 1, 0xbad), port);
    natted.send(pcmu(0x13, 2), port);
    await until(() => heard.length === 2);
    expect(heard).toEqual([0x11, 0x13]);
    leg.sendRtp(pcmuFrame(0x14, 3));
    await until(() => natted.received.length === 1);
    expect(signalledOnly.received).toHaveLength(0);
  });

  it('closes without BYE when it never sent RTP or RTCP (RFC 3550 §6.3.7)', async () => {
    const peer = await rtpPeer();
    const phoneRtcp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => phoneRtcp.bind(0, '127.0.0.1', resolve));
    const reports: Buffer[] = [];
    phoneRtcp.on('message', (bytes) => reports.push(bytes));
    cleanups.push(() => peer.close(), () => phoneRtcp.close());
    const sdp = phoneOffer(peer.port, `a=rtcp:${phoneRtcp.address().port}`);
    const silent = await RtpLeg.answer('silent', sdp, config);
    const talking = await RtpLeg.answer('talking', sdp, config);
    talking.leg.sendRtp(pcmuFrame(1, 1));
    silent.leg.close();
    talking.leg.close();
    // The leg that sent RTP says goodbye; the one that sent nothing is not heard from at all.
    await until(() => reports.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.subarray(-8)[1]).toBe(203);
  });

  it('sends to the c=/m= address before any media arrives', async () => {
    const { leg, peer } = await answered();
    leg.sendRtp(pcmuFrame(0x33, 1));
    await until(() => peer.received.length === 1);
    expect(peer.received[0]?.payload.readUInt8(0)).toBe(0x33);
  });

  it('reports a key press from the phone once, and sends key presses as RFC 4733 events', async () => {
    const { leg, peer, answerSdp } = await answered();
    const port = describeAudio(parseSdp(answerSdp)).port;
    const events: DtmfEvent[] = [];
    leg.on('dtmf', (e) => events.push(e));
    const audio: RtpFrame[] = [];
    leg.on('rtp', (p) => audio.push(p));
    const send = (seq: number, end: boolean, duration: number) =>
      peer.send(new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: seq, timestamp: 8000, ssrc: 9, marker: seq === 1 }), serializeTelephoneEvent({ event: 5, end, volume: 10, duration })), port);
    send(1, false, 160);
    send(2, false, 320);
    send(3, true, 640);
    send(4, true, 640);
    send(5, true, 640);
    await until(() => events.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([{ digit: '5', durationMs: 80 }]);
    expect(audio).toHaveLength(0);

    leg.sendDtmf({ digit: '#', durationMs: 100 });
    await until(() => peer.received.filter((p) => parseTelephoneEvent(p.payload)?.end).length === 3);
    const packets = peer.received;
    expect(packets.every((p) => p.header.payloadType === 101)).toBe(true);
    expect(new Set(packets.map((p) => p.header.timestamp)).size).toBe(1);
    expect(packets[0]?.header.marker).toBe(true);
    expect(packets.map((p) => parseTelephoneEvent(p.payload)?.event)).toEqual(packets.map(() => 11));
    expect(parseTelephoneEvent(packets.at(-1)!.payload)).toMatchObject({ end: true, duration: 800 });
  });

  it('does not send DTMF to a phone that did not negotiate telephone-event', async () => {
    const peer = await rtpPeer();
    const offer = phoneOffer(peer.port).replace(' 0 8 101', ' 0 8').replace(/a=rtpmap:101.*\r\na=fmtp:101.*\r\n/, '');
    const { leg, answerSdp } = await RtpLeg.answer('no-dtmf', offer, config);
    cleanups.push(() => leg.close(), () => peer.close());
    expect(answerSdp).not.toContain('telephone-event');
    leg.sendDtmf({ digit: '1', durationMs: 60 });
    await new Promise((r) => setTimeout(r, 150));
    expect(peer.received).toHaveLength(0);
  });

  it('is put on hold and resumed by re-offers (RFC 3264 §8.4)', async () => {
    const { leg, peer } = await answered();
    const held = await leg.renegotiate(phoneOffer(peer.port, 'a=sendonly'));
    expect(describeAudio(parseSdp(held)).direction).toBe('recvonly');
    expect(leg.remoteDirection).toBe('sendonly');
    expect(parseSdp(held).origin.sessionVersion).toBe('2');
    leg.sendRtp(pcmuFrame(1, 1));
    leg.sendDtmf({ digit: '1', durationMs: 40 });

    const inactive = await leg.renegotiate(phoneOffer(peer.port, 'a=inactive'));
    expect(describeAudio(parseSdp(inactive)).direction).toBe('inactive');
    leg.sendRtp(pcmuFrame(2, 2));

    const legacy = await leg.renegotiate(phoneOffer(peer.port).replace(/c=IN IP4 127.0.0.1/, 'c=IN IP4 0.0.0.0'));
    expect(leg.remoteDirection).toBe('sendonly');
    expect(describeAudio(parseSdp(legacy)).direction).toBe('sendrecv');
    leg.sendRtp(pcmuFrame(3, 3));
    await new Promise((r) => setTimeout(r, 200));
    expect(peer.received).toHaveLength(0);

    const resumed = await leg.renegotiate(phoneOffer(peer.port));
    expect(describeAudio(parseSdp(resumed)).direction).toBe('sendrecv');
    expect(leg.remoteDirection).toBe('sendrecv');
    leg.sendRtp(pcmuFrame(4, 4));
    await until(() => peer.received.length === 1);
    expect(peer.received[0]?.payload.readUInt8(0)).toBe(4);
  });

  it('answers an offer with video too with one m= line per offered line: audio taken, the rest refused with port 0 (RFC 3264 §6)', async () => {
    const peer = await rtpPeer();
    const video = ['m=video 40002 RTP/AVP 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 H264/90000'];
    const audioFirst = `${phoneOffer(peer.port)}${video.join('\r\n')}\r\n`;
    const { leg, answerSdp } = await RtpLeg.answer('with-video', audioFirst, config);
    cleanups.push(() => leg.close(), () => peer.close());
    const lines = parseSdp(answerSdp).media;
    expect(lines.map((m) => [m.type, m.port === 0, m.formats.join(' ')])).toEqual([
      ['audio', false, '0 101'],
      ['video', true, '96 97'],
    ]);
    expect(lines[1]?.protocol).toBe('RTP/AVP');

    // Video first, audio second: the order is the offer's.
    const sessionPart = phoneOffer(peer.port).split('m=audio')[0] ?? '';
    const audioPart = `m=audio${phoneOffer(peer.port).split('m=audio')[1] ?? ''}`;
    const videoFirst = `${sessionPart}${video.join('\r\n')}\r\n${audioPart}`;
    const second = await RtpLeg.answer('video-first', videoFirst, config);
    cleanups.push(() => second.leg.close());
    expect(parseSdp(second.answerSdp).media.map((m) => [m.type, m.port === 0])).toEqual([
      ['video', true],
      ['audio', false],
    ]);

    // A re-offer that adds video mid-call is answered the same way.
    const reanswer = await leg.renegotiate(audioFirst);
    expect(parseSdp(reanswer).media.map((m) => [m.type, m.port === 0])).toEqual([
      ['audio', false],
      ['video', true],
    ]);
  });

  it('refuses a re-offer that drops the codec the bridge carries, and keeps the session as it was (RFC 3261 §14.2)', async () => {
    const { leg, peer } = await answered('a=rtcp-mux');
    expect(leg.codec?.mimeType).toBe('audio/PCMU');
    const pcmaOnly = phoneOffer(peer.port).replace('RTP/AVP 0 8 101', 'RTP/AVP 8 101');
    await expect(leg.renegotiate(pcmaOnly)).rejects.toThrow(SdpError);
    expect(leg.codec?.mimeType).toBe('audio/PCMU');
    // Still multiplexed, still sending PCMU to the phone.
    const again = await leg.renegotiate(phoneOffer(peer.port, 'a=rtcp-mux'));
    expect(describeAudio(parseSdp(again))).toMatchObject({ rtcpMux: true, codecs: [expect.objectContaining({ mimeType: 'audio/PCMU' }), expect.objectContaining({ mimeType: 'audio/telephone-event' })] });
    leg.sendRtp(pcmuFrame(9, 1));
    await until(() => peer.received.length === 1);
    expect(peer.received[0]?.header.payloadType).toBe(0);
  });

  it('offers PCMU with telephone-event and takes the callee answer', async () => {
    const peer = await rtpPeer();
    const { leg, offerSdp } = await RtpLeg.offer('callee', config, [{ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }]);
    cleanups.push(() => leg.close(), () => peer.close());
    const offer = describeAudio(parseSdp(offerSdp));
    expect(offer.codecs.map((c) => `${c.payloadType} ${c.mimeType}/${c.clockRate}`)).toEqual(['0 audio/PCMU/8000', '101 audio/telephone-event/8000']);
    expect(offer.direction).toBe('sendrecv');
    expect(leg.state).toBe('new');
    await leg.acceptAnswer(phoneOffer(peer.port).replace(' 0 8 101', ' 0 101'));
    expect(leg.state).toBe('connected');
    expect(leg.codec?.mimeType).toBe('audio/PCMU');
    leg.sendRtp(pcmuFrame(9, 1));
    await until(() => peer.received.length === 1);
    await expect(leg.acceptAnswer(phoneOffer(peer.port).replace(' 0 8 101', ' 8'))).rejects.toThrow(/no codec/);
  });

  it('refuses an offer it cannot answer, and survives garbage on its port', async () => {
    const peer = await rtpPeer();
    cleanups.push(() => peer.close());
    await expect(RtpLeg.answer('g729', phoneOffer(peer.port).replace(' 0 8 101', ' 18'), config)).rejects.toThrow(/codec/);
    const { leg, answerSdp } = await answered();
    const port = describeAudio(parseSdp(answerSdp)).port;
    const junk = dgram.createSocket('udp4');
    for (const bytes of [Buffer.from('hello'), Buffer.alloc(12, 0xff), Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff])]) junk.send(bytes, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    junk.close();
    expect(leg.state).toBe('connected');
  });

  it('closes its sockets', async () => {
    const { leg, answerSdp } = await answered();
    const port = describeAudio(parseSdp(answerSdp)).port;
    leg.close();
    expect(leg.state).toBe('closed');
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => again.bind(port, '127.0.0.1', resolve));
    again.close();
  });
});

describe('rtpBytes', () => {
  it('writes what werift reads back: version 2, marker, payload type, sequence, timestamp, SSRC and payload', () => {
    const payload = Buffer.from([1, 2, 3, 4]);
    const bytes = rtpBytes({ ssrc: 0xfedcba98, sequenceNumber: 0x1_0005, timestamp: 2 ** 32 + 7, marker: true }, 101, payload);
    const packet = RtpPacket.deSerialize(bytes);
    expect(packet.header.version).toBe(2);
    expect(packet.header.marker).toBe(true);
    expect(packet.header.payloadType).toBe(101);
    expect(packet.header.sequenceNumber).toBe(5);
    expect(packet.header.timestamp).toBe(7);
    expect(packet.header.ssrc).toBe(0xfedcba98);
    expect(packet.payload.equals(payload)).toBe(true);
    expect(RtpPacket.deSerialize(rtpBytes({ ssrc: 1, sequenceNumber: 1, timestamp: 1, marker: false }, 0, payload)).header.marker).toBe(false);
  });
});

describe('readRtp', () => {
  it('finds the payload past CSRCs and a header extension, without padding, and refuses lengths that do not add up', () => {
    const payload = Buffer.from([9, 8, 7]);
    // V=2, P=1, X=1, CC=1; marker and PT 0; one CSRC; a one-word extension; 3 payload bytes; 2 bytes of padding.
    const bytes = Buffer.concat([
      Buffer.from([0xb1, 0x80, 0x00, 0x07, 0, 0, 0, 42, 0, 0, 0, 5]),
      Buffer.from([0, 0, 0, 99]),
      Buffer.from([0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]),
      payload,
      Buffer.from([0, 2]),
    ]);
    const frame = readRtp(bytes);
    expect(frame).toMatchObject({ marker: true, payloadType: 0, sequenceNumber: 7, timestamp: 42, ssrc: 5 });
    expect(frame?.bytes).toBe(bytes);
    expect(rtpPayload(frame!).equals(payload)).toBe(true);
    expect(readRtp(Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBeUndefined();
    expect(readRtp(Buffer.from([0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe]))).toBeUndefined();
  });
});
