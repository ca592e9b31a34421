import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerDirection, classifyOffer, describeAudio, parseSdp, SdpError, writeSdp } from './sdp';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const chrome = fixture('chrome-offer.sdp');
const baresip = fixture('baresip-offer.sdp');
const deskphone = fixture('deskphone-offer.sdp');
const sipp = fixture('sipp-offer.sdp');

describe('SDP parser', () => {
  it('reads a Chrome offer: codecs in order, telephone-events at both clocks, rtcp-mux, sendrecv', () => {
    const audio = describeAudio(parseSdp(chrome));
    expect(audio.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(audio.address).toBe('0.0.0.0');
    expect(audio.codecs.map((c) => `${c.payloadType} ${c.mimeType}/${c.clockRate}`)).toEqual([
      '111 audio/opus/48000',
      '63 audio/red/48000',
      '9 audio/G722/8000',
      '0 audio/PCMU/8000',
      '8 audio/PCMA/8000',
      '13 audio/CN/8000',
      '110 audio/telephone-event/48000',
      '126 audio/telephone-event/8000',
    ]);
    expect(audio.codecs[0]).toMatchObject({ channels: 2, parameters: 'minptime=10;useinbandfec=1' });
    expect(audio.rtcpMux).toBe(true);
    expect(audio.direction).toBe('sendrecv');
  });

  it('reads a baresip offer: session-level c=, ptime, rtcp port and telephone-event/8000', () => {
    const audio = describeAudio(parseSdp(baresip));
    expect(audio).toMatchObject({ address: '192.168.1.40', port: 10020, protocol: 'RTP/AVP', ptime: 20, rtcpMux: false, rtcpPort: 10021 });
    expect(audio.codecs.map((c) => c.payloadType)).toEqual([96, 0, 8, 101]);
    expect(audio.codecs[3]).toMatchObject({ mimeType: 'audio/telephone-event', clockRate: 8000, parameters: '0-15' });
  });

  it('reads a desk phone offer with G.722 first and G.729', () => {
    const audio = describeAudio(parseSdp(deskphone));
    expect(audio.codecs.map((c) => c.mimeType)).toEqual(['audio/G722', 'audio/PCMU', 'audio/PCMA', 'audio/G729', 'audio/telephone-event']);
    expect(audio.codecs[3]?.parameters).toBe('annexb=no');
  });

  it("reads SIPp's default PCMU offer", () => {
    const audio = describeAudio(parseSdp(sipp));
    expect(audio).toMatchObject({ address: '127.0.0.1', port: 6000, direction: 'sendrecv', ptime: undefined });
    expect(audio.codecs).toEqual([{ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }]);
  });

  it('knows static payload types without an rtpmap', () => {
    const text = sipp.replace('a=rtpmap:0 PCMU/8000\r\n', '').replace('RTP/AVP 0', 'RTP/AVP 8 0');
    expect(describeAudio(parseSdp(text)).codecs.map((c) => c.mimeType)).toEqual(['audio/PCMA', 'audio/PCMU']);
  });

  it('accepts bare LF line ends (RFC 8866 §5)', () => {
    expect(describeAudio(parseSdp(baresip.replace(/\r\n/g, '\n'))).port).toBe(10020);
  });

  it('forgives what devices leave at line ends: trailing spaces, doubled spaces in m=, blank lines at the end', () => {
    const untidy = `${baresip.replace(/\r\n/g, ' \r\n').replace(/^m=audio (\d+) RTP\/AVP /m, 'm=audio  $1  RTP/AVP  ')}\r\n\r\n`;
    const audio = describeAudio(parseSdp(untidy));
    const tidy = describeAudio(parseSdp(baresip));
    expect(audio.port).toBe(tidy.port);
    expect(audio.codecs).toEqual(tidy.codecs);
    expect(audio.direction).toBe(tidy.direction);
  });

  it('takes the direction from the media section, else the session, else sendrecv', () => {
    expect(describeAudio(parseSdp(sipp.replace('t=0 0\r\n', 't=0 0\r\na=sendonly\r\n'))).direction).toBe('sendonly');
    expect(describeAudio(parseSdp(`${baresip.replace('a=sendrecv', 'a=inactive')}`)).direction).toBe('inactive');
  });

  it.each([
    ['no v=0 first', sipp.replace('v=0\r\n', '')],
    ['no o=', sipp.replace(/o=.*\r\n/, '')],
    ['no s=', sipp.replace(/s=.*\r\n/, '')],
    ['an unknown line type', sipp.replace('t=0 0', 't=0 0\r\nx=1')],
    ['a malformed c=', sipp.replace('c=IN IP4 127.0.0.1', 'c=IN IP4')],
    ['a malformed m=', sipp.replace('m=audio 6000 RTP/AVP 0', 'm=audio port RTP/AVP 0')],
    ['a port out of range', sipp.replace('6000', '70000')],
    ['a line without =', sipp.replace('t=0 0', 't 0 0')],
    ['no c= for the audio', sipp.replace('c=IN IP4 127.0.0.1\r\n', '')],
    ['no audio', sipp.replace('m=audio', 'm=video')],
  ])('rejects a description with %s', (_, text) => {
    expect(() => describeAudio(parseSdp(text))).toThrow(SdpError);
  });

  it('writes what it reads, line for line', () => {
    expect(writeSdp(parseSdp(baresip))).toBe(baresip);
    expect(writeSdp(parseSdp(chrome))).toBe(chrome);
  });
});

describe('classifyOffer', () => {
  it('tells WebRTC offers from plain RTP ones', () => {
    expect(classifyOffer(chrome)).toBe('webrtc');
    expect(classifyOffer(baresip)).toBe('rtp');
    expect(classifyOffer(deskphone)).toBe('rtp');
    expect(classifyOffer(sipp)).toBe('rtp');
  });

  it('accepts ICE and fingerprint at session level', () => {
    const lines = chrome.split('\r\n');
    const moved = lines.filter((l) => !l.startsWith('a=ice-') && !l.startsWith('a=fingerprint'));
    const session = lines.filter((l) => l.startsWith('a=ice-ufrag') || l.startsWith('a=ice-pwd') || l.startsWith('a=fingerprint'));
    moved.splice(moved.indexOf('t=0 0') + 1, 0, ...session);
    expect(classifyOffer(moved.join('\r\n'))).toBe('webrtc');
  });

  it('refuses SRTP without DTLS and protocols it does not carry', () => {
    expect(() => classifyOffer(chrome.replace(/a=fingerprint:.*\r\n/, ''))).toThrow(/fingerprint/);
    expect(() => classifyOffer(sipp.replace('RTP/AVP', 'RTP/SAVP'))).toThrow(SdpError);
  });
});

describe('answerDirection', () => {
  it('answers hold as RFC 3264 §6.1 says', () => {
    expect(answerDirection('sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly')).toBe('sendonly');
    expect(answerDirection('inactive')).toBe('inactive');
  });
});
