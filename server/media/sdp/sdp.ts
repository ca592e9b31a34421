/**
 * SDP (RFC 8866, formerly RFC 4566), parsed and written strictly for what the PBX's media legs need: the
 * session lines, one or more m= sections with their c=, b= and a= lines, and helpers that read an audio
 * stream's codecs, direction, ptime, telephone-event and the ICE/DTLS attributes that tell a WebRTC offer
 * from a plain RTP one.
 *
 * The parser rejects rather than guesses: a description that does not start with v=0, lacks o= or s=, uses
 * a type letter outside RFC 8866 §5, or has a malformed o=, c= or m= line throws `SdpError`, which the call
 * engine turns into a 488 (RFC 3261 §21.4.26).
 */
import type { LegKind, MediaDirection, NegotiatedCodec } from '../legs/media-leg';

export class SdpError extends Error {
  override readonly name = 'SdpError';
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpAttribute {
  name: string;
  value?: string;
}

export interface SdpMedia {
  type: string;
  port: number;
  portCount?: number;
  protocol: string;
  formats: string[];
  connection?: SdpConnection;
  bandwidths: string[];
  attributes: SdpAttribute[];
}

export interface SessionDescription {
  origin: SdpOrigin;
  sessionName: string;
  connection?: SdpConnection;
  bandwidths: string[];
  /** t= lines, kept as written; an SDP offer/answer session is `0 0` (RFC 3264 §5). */
  timing: string[];
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

/** RFC 8866 §5: the type letters a parser must understand; any other makes the whole description invalid. */
const KNOWN_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);

export function parseSdp(text: string): SessionDescription {
  // RFC 8866 §5: lines end in CRLF, but parsers should also accept a bare LF. Devices in the field also
  // leave spaces at line ends and blank lines at the end; neither changes what the description says.
  const lines = text.split(/\r?\n/).map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') throw new SdpError('the description must start with v=0');
  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  const session: Omit<SessionDescription, 'origin' | 'sessionName'> = { bandwidths: [], timing: [], attributes: [], media: [] };
  let media: SdpMedia | undefined;
  for (const [index, line] of lines.entries()) {
    if (index === 0) continue;
    const match = /^([a-z])=(.*)$/.exec(line);
    if (!match) throw new SdpError(`malformed line ${index + 1}: ${JSON.stringify(line.slice(0, 40))}`);
    const type = match[1] as string;
    const value = match[2] as string;
    if (!KNOWN_TYPES.has(type)) throw new SdpError(`unknown line type "${type}="`);
    if (type === 'm') {
      media = parseMediaLine(value);
      session.media.push(media);
      continue;
    }
    if (media) {
      if (type === 'c') media.connection = parseConnection(value);
      else if (type === 'b') media.bandwidths.push(value);
      else if (type === 'a') media.attributes.push(parseAttribute(value));
      else if (type !== 'i' && type !== 'k') throw new SdpError(`"${type}=" is not allowed in a media section`);
      continue;
    }
    switch (type) {
      case 'v':
        throw new SdpError('v= appears twice');
      case 'o':
        origin = parseOrigin(value);
        break;
      case 's':
        sessionName = value;
        break;
      case 'c':
        session.connection = parseConnection(value);
        break;
      case 'b':
        session.bandwidths.push(value);
        break;
      case 't':
        session.timing.push(value);
        break;
      case 'a':
        session.attributes.push(parseAttribute(value));
        break;
      default:
        break; // i=, u=, e=, p=, r=, z=, k=: informational, not needed for media.
    }
  }
  if (!origin) throw new SdpError('missing o= line');
  if (sessionName === undefined) throw new SdpError('missing s= line');
  return { origin, sessionName, ...session };
}

function parseOrigin(value: string): SdpOrigin {
  const parts = value.split(' ');
  if (parts.length !== 6 || parts.some((part) => part === '')) throw new SdpError('malformed o= line');
  const [username, sessionId, sessionVersion, netType, addrType, address] = parts as [string, string, string, string, string, string];
  if (!/^\d+$/.test(sessionId) || !/^\d+$/.test(sessionVersion)) throw new SdpError('o= session id and version must be numbers');
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

function parseConnection(value: string): SdpConnection {
  const parts = value.split(' ');
  if (parts.length !== 3 || parts.some((part) => part === '')) throw new SdpError('malformed c= line');
  const [netType, addrType, rawAddress] = parts as [string, string, string];
  if (netType !== 'IN' || (addrType !== 'IP4' && addrType !== 'IP6')) throw new SdpError(`unsupported c= address type ${netType} ${addrType}`);
  // A multicast address may carry /ttl and /count (RFC 8866 §5.7); unicast legs only need the address.
  const address = rawAddress.split('/')[0] ?? '';
  if (address === '') throw new SdpError('malformed c= address');
  return { netType, addrType, address };
}

function parseMediaLine(value: string): SdpMedia {
  const match = /^(\S+) +(\d+)(?:\/(\d+))? +(\S+)((?: +\S+)*)$/.exec(value);
  if (!match) throw new SdpError('malformed m= line');
  const port = Number(match[2]);
  if (port > 65535) throw new SdpError('m= port out of range');
  const formats = (match[5] ?? '').trim().split(/ +/).filter(Boolean);
  if (formats.length === 0) throw new SdpError('m= line without formats');
  return {
    type: match[1] as string,
    port,
    ...(match[3] !== undefined ? { portCount: Number(match[3]) } : {}),
    protocol: match[4] as string,
    formats,
    bandwidths: [],
    attributes: [],
  };
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon === -1) return { name: value };
  return { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

export function writeSdp(sdp: SessionDescription): string {
  const o = sdp.origin;
  const lines = ['v=0', `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`, `s=${sdp.sessionName}`];
  if (sdp.connection) lines.push(connectionLine(sdp.connection));
  for (const b of sdp.bandwidths) lines.push(`b=${b}`);
  for (const t of sdp.timing.length > 0 ? sdp.timing : ['0 0']) lines.push(`t=${t}`);
  for (const a of sdp.attributes) lines.push(attributeLine(a));
  for (const m of sdp.media) {
    const port = m.portCount !== undefined ? `${m.port}/${m.portCount}` : `${m.port}`;
    lines.push(`m=${m.type} ${port} ${m.protocol} ${m.formats.join(' ')}`);
    if (m.connection) lines.push(connectionLine(m.connection));
    for (const b of m.bandwidths) lines.push(`b=${b}`);
    for (const a of m.attributes) lines.push(attributeLine(a));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function attributeLine(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

// ---- reading an audio stream ----

const DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** RFC 3551 §6: static payload types that may appear without an rtpmap. */
const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { name: string; clockRate: number }>> = {
  0: { name: 'PCMU', clockRate: 8000 },
  3: { name: 'GSM', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 },
  9: { name: 'G722', clockRate: 8000 },
  13: { name: 'CN', clockRate: 8000 },
  18: { name: 'G729', clockRate: 8000 },
};

export interface AudioDescription {
  media: SdpMedia;
  /** Every m= line of the description, in order: an answer has as many (RFC 3264 §6). */
  lines: readonly SdpMedia[];
  /** Where the remote wants RTP: the media-level c= or else the session-level one. */
  address: string;
  port: number;
  protocol: string;
  /** Every format of the m= line, in the remote's order of preference, telephone-event included. */
  codecs: NegotiatedCodec[];
  direction: MediaDirection;
  ptime: number | undefined;
  rtcpMux: boolean;
  /** RFC 3605: where the remote wants RTCP when it is not on port+1. */
  rtcpPort: number | undefined;
}

export function findAttribute(sdp: SessionDescription, media: SdpMedia, name: string): SdpAttribute | undefined {
  return media.attributes.find((a) => a.name === name) ?? sdp.attributes.find((a) => a.name === name);
}

/** The first audio m= line, which is the only one a call leg uses. */
export function describeAudio(sdp: SessionDescription): AudioDescription {
  const media = sdp.media.find((m) => m.type === 'audio');
  if (!media) throw new SdpError('the description has no audio stream');
  const connection = media.connection ?? sdp.connection;
  if (!connection) throw new SdpError('the audio stream has no c= line');
  const rtpmaps = new Map<number, { name: string; clockRate: number; channels?: number | undefined }>();
  const fmtps = new Map<number, string>();
  for (const a of media.attributes) {
    if (a.name === 'rtpmap' && a.value) {
      const m = /^(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(a.value.trim());
      if (!m) throw new SdpError(`malformed rtpmap "${a.value}"`);
      rtpmaps.set(Number(m[1]), { name: m[2] as string, clockRate: Number(m[3]), ...(m[4] ? { channels: Number(m[4]) } : {}) });
    } else if (a.name === 'fmtp' && a.value) {
      const m = /^(\d+) (.*)$/.exec(a.value.trim());
      if (m) fmtps.set(Number(m[1]), m[2] as string);
    }
  }
  const codecs: NegotiatedCodec[] = [];
  for (const format of media.formats) {
    if (!/^\d+$/.test(format)) throw new SdpError(`RTP format "${format}" is not a payload type`);
    const payloadType = Number(format);
    if (payloadType > 127) throw new SdpError(`payload type ${payloadType} out of range`);
    const map: { name: string; clockRate: number; channels?: number | undefined } | undefined =
      rtpmaps.get(payloadType) ?? STATIC_PAYLOAD_TYPES[payloadType];
    if (!map) continue; // a dynamic type without rtpmap cannot be used (RFC 4566 §6)
    const parameters = fmtps.get(payloadType);
    codecs.push({
      mimeType: `audio/${map.name}`,
      clockRate: map.clockRate,
      channels: map.channels ?? 1,
      payloadType,
      ...(parameters !== undefined ? { parameters } : {}),
    });
  }
  const direction =
    (media.attributes.find((a) => isDirection(a.name))?.name as MediaDirection | undefined) ??
    (sdp.attributes.find((a) => isDirection(a.name))?.name as MediaDirection | undefined) ??
    'sendrecv';
  const ptimeValue = findAttribute(sdp, media, 'ptime')?.value;
  const ptime = ptimeValue !== undefined && /^\d+(\.\d+)?$/.test(ptimeValue) ? Number(ptimeValue) : undefined;
  const rtcpValue = media.attributes.find((a) => a.name === 'rtcp')?.value;
  const rtcpPort = rtcpValue !== undefined ? Number(rtcpValue.split(' ')[0]) : undefined;
  return {
    media,
    lines: sdp.media,
    address: connection.address,
    port: media.port,
    protocol: media.protocol,
    codecs,
    direction,
    ptime,
    rtcpMux: media.attributes.some((a) => a.name === 'rtcp-mux'),
    rtcpPort: rtcpPort !== undefined && Number.isInteger(rtcpPort) && rtcpPort > 0 && rtcpPort <= 65535 ? rtcpPort : undefined,
  };
}

function isDirection(name: string): boolean {
  return (DIRECTIONS as readonly string[]).includes(name);
}

export function isTelephoneEvent(codec: NegotiatedCodec): boolean {
  return codec.mimeType.toLowerCase() === 'audio/telephone-event';
}

export function sameCodec(a: NegotiatedCodec, b: NegotiatedCodec): boolean {
  return a.mimeType.toLowerCase() === b.mimeType.toLowerCase() && a.clockRate === b.clockRate;
}

/** RFC 3264 §6.1: the answer's direction for an offered one, when we are willing to send and receive. */
export function answerDirection(offered: MediaDirection): MediaDirection {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

/** True when a side that stated `direction` has put the call on hold (RFC 3264 §8.4). */
export function holds(direction: MediaDirection): boolean {
  return direction === 'sendonly' || direction === 'inactive';
}

/** True when the remote side, having stated `direction`, wants to receive our media. */
export function remoteReceives(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

/** True when the remote side, having stated `direction`, will send us media. */
export function remoteSends(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

/**
 * Tells a WebRTC offer from a plain RTP one by its audio stream. WebRTC (RFC 8829 §5.2.1, RFC 8842) uses
 * `UDP/TLS/RTP/SAVPF` (older browsers `RTP/SAVPF`) with ICE credentials and a DTLS fingerprint; a desk phone
 * or softphone uses `RTP/AVP` (or `RTP/AVPF`). SDES-keyed SRTP (`RTP/SAVP` with a=crypto) is not supported
 * and is rejected rather than answered as plain RTP.
 */
export function classifyOffer(text: string): LegKind {
  const sdp = parseSdp(text);
  const audio = describeAudio(sdp);
  const protocol = audio.protocol.toUpperCase();
  if (protocol === 'RTP/AVP' || protocol === 'RTP/AVPF') return 'rtp';
  if (protocol === 'UDP/TLS/RTP/SAVPF' || protocol === 'RTP/SAVPF' || protocol === 'UDP/TLS/RTP/SAVP') {
    const hasIce = findAttribute(sdp, audio.media, 'ice-ufrag') !== undefined && findAttribute(sdp, audio.media, 'ice-pwd') !== undefined;
    const hasFingerprint = findAttribute(sdp, audio.media, 'fingerprint') !== undefined;
    if (hasIce && hasFingerprint) return 'webrtc';
    throw new SdpError(`${audio.protocol} without ICE credentials and a DTLS fingerprint is not supported`);
  }
  throw new SdpError(`unsupported media protocol ${audio.protocol}`);
}
