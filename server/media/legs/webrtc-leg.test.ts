import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { onlyCandidatesAt, WebRtcLeg } from './webrtc-leg';
import { describeAudio, parseSdp } from '../sdp/sdp';

const config = { address: '127.0.0.1' };
const chrome = readFileSync(new URL('../sdp/fixtures/chrome-offer.sdp', import.meta.url), 'utf8');

describe('WebRtcLeg negotiation', () => {
  const legs: WebRtcLeg[] = [];
  afterEach(() => {
    for (const leg of legs.splice(0)) leg.close();
  });

  it("answers a Chrome offer with Opus and telephone-event/48000, in Chrome's payload types", async () => {
    const { leg, answerSdp } = await WebRtcLeg.answer('chrome', chrome, config);
    legs.push(leg);
    const answer = describeAudio(parseSdp(answerSdp));
    expect(answer.codecs.map((c) => `${c.payloadType} ${c.mimeType.toLowerCase()}/${c.clockRate}`)).toContain('110 audio/telephone-event/48000');
    expect(answer.codecs[0]).toMatchObject({ payloadType: 111, clockRate: 48000 });
    expect(leg.codec?.mimeType.toLowerCase()).toBe('audio/opus');
    expect(leg.kind).toBe('webrtc');
    expect(leg.remoteDirection).toBe('sendrecv');
  });

  it('answers with G.711 and telephone-event/8000 when the bridge needs G.711', async () => {
    const { leg, answerSdp } = await WebRtcLeg.answer('chrome', chrome, config, [{ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }]);
    legs.push(leg);
    const answer = describeAudio(parseSdp(answerSdp));
    expect(answer.codecs.map((c) => `${c.payloadType} ${c.mimeType.toLowerCase()}/${c.clockRate}`)).toEqual(['0 audio/pcmu/8000', '126 audio/telephone-event/8000']);
    expect(leg.codec).toMatchObject({ payloadType: 0, clockRate: 8000 });
  });

  it('advertises only candidates at the media address, whatever other interfaces the machine has', async () => {
    const { leg, offerSdp } = await WebRtcLeg.offer('callee', config, [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }]);
    legs.push(leg);
    const candidates = offerSdp.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((line) => line.split(' ')[4] === '127.0.0.1')).toBe(true);
  });

  it('drops candidates at other addresses from an SDP, and keeps a wildcard or unmatched address as it is', () => {
    const sdp = ['v=0', 'a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', 'a=candidate:2 1 udp 2130706431 192.0.2.2 40002 typ host', 'a=end-of-candidates', ''].join('\r\n');
    expect(onlyCandidatesAt(sdp, '127.0.0.1')).toBe(['v=0', 'a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host', 'a=end-of-candidates', ''].join('\r\n'));
    expect(onlyCandidatesAt(sdp, '0.0.0.0')).toBe(sdp);
    expect(onlyCandidatesAt(sdp, '198.51.100.7')).toBe(sdp);
  });

  it('offers telephone-event beside the codec it is given', async () => {
    const { leg, offerSdp } = await WebRtcLeg.offer('callee', config, [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }]);
    legs.push(leg);
    const offer = describeAudio(parseSdp(offerSdp));
    expect(offer.codecs.map((c) => `${c.payloadType} ${c.mimeType.toLowerCase()}/${c.clockRate}`)).toEqual(['111 audio/opus/48000', '110 audio/telephone-event/48000']);
  });

  it('answers a re-offer that holds with recvonly, and inactive with inactive', async () => {
    const { leg } = await WebRtcLeg.answer('chrome', chrome, config);
    legs.push(leg);
    const held = await leg.renegotiate(chrome.replace('o=- 4611731400430051336 2', 'o=- 4611731400430051336 3').replace('a=sendrecv', 'a=sendonly'));
    expect(describeAudio(parseSdp(held)).direction).toBe('recvonly');
    expect(leg.remoteDirection).toBe('sendonly');
    const inactive = await leg.renegotiate(chrome.replace('o=- 4611731400430051336 2', 'o=- 4611731400430051336 4').replace('a=sendrecv', 'a=inactive'));
    expect(describeAudio(parseSdp(inactive)).direction).toBe('inactive');
    const resumed = await leg.renegotiate(chrome.replace('o=- 4611731400430051336 2', 'o=- 4611731400430051336 5'));
    expect(describeAudio(parseSdp(resumed)).direction).toBe('sendrecv');
    expect(leg.remoteDirection).toBe('sendrecv');
  });
});
