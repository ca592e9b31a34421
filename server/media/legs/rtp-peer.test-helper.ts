/**
 * A plain RTP endpoint on loopback for tests, standing in for a desk phone: a UDP socket the test drives,
 * which records every RTP packet it receives.
 */
import dgram from 'node:dgram';
import { RtpHeader, RtpPacket } from 'werift';
import type { RtpFrame } from './media-leg';
import { readRtp } from './rtp-leg';

export interface RtpPeer {
  port: number;
  received: RtpPacket[];
  /** The address the last packet came from. */
  lastSource: { address: string; port: number } | undefined;
  send(packet: RtpPacket, port: number, address?: string): void;
  close(): void;
}

export async function rtpPeer(): Promise<RtpPeer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const peer: RtpPeer = {
    port: socket.address().port,
    received: [],
    lastSource: undefined,
    send: (packet, port, address = '127.0.0.1') => socket.send(packet.serialize(), port, address),
    close: () => socket.close(),
  };
  socket.on('message', (message, from) => {
    peer.received.push(RtpPacket.deSerialize(message));
    peer.lastSource = { address: from.address, port: from.port };
  });
  return peer;
}

export function pcmu(marker: number, seq: number, ssrc = 0x5eed): RtpPacket {
  return new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc }), Buffer.alloc(160, marker));
}

/** A PCMU packet as a plain RTP leg hands it to a bridge: read from the datagram, which it keeps. */
export function pcmuFrame(marker: number, seq: number, ssrc = 0x5eed): RtpFrame {
  const frame = readRtp(pcmu(marker, seq, ssrc).serialize());
  if (!frame) throw new Error('unreadable packet');
  return frame;
}

/** A plain RTP offer as a phone at 127.0.0.1:port would send it. */
export function phoneOffer(port: number, extra = ''): string {
  return [
    'v=0',
    'o=phone 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio ' + port + ' RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    ...(extra ? [extra] : []),
    '',
  ].join('\r\n');
}

export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
