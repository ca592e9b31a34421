/**
 * How the call engine makes media legs without knowing their kind: answer an offer with the leg its SDP
 * calls for (WebRTC or plain RTP, `classifyOffer`), offer a callee the kind of leg its device speaks, and
 * pick the codecs a bridge can carry between the two.
 */
import { createLogger } from '../../log';
import type { LegKind, MediaConfig, MediaLeg, NegotiatedCodec } from './media-leg';
import { RtpLeg } from './rtp-leg';
import { classifyOffer, describeAudio, isTelephoneEvent, parseSdp, sameCodec } from '../sdp/sdp';
import { SUPPORTED_AUDIO_CODECS, WebRtcLeg } from './webrtc-leg';

const log = createLogger('media');

/** G.711, µ-law first: what every SIP phone speaks (RFC 3551 §4.5.14) and what a WebRTC browser offers too. */
export const G711: readonly NegotiatedCodec[] = SUPPORTED_AUDIO_CODECS.filter((codec) => ['audio/pcmu', 'audio/pcma'].includes(codec.mimeType.toLowerCase()));

export interface AnswerOptions {
  /** The codecs the leg may choose from, e.g. from `chooseBridgeCodecs`; every codec of its kind when left out. */
  allowedCodecs?: readonly NegotiatedCodec[];
}

/** Answers an offer with a WebRTC leg or a plain RTP leg, as the offer's transport calls for. */
export async function answerOffer(
  id: string,
  offerSdp: string,
  config: MediaConfig,
  options: AnswerOptions = {},
): Promise<{ leg: MediaLeg; answerSdp: string }> {
  const kind = classifyOffer(offerSdp);
  log.debug('answering offer', { leg: id, kind });
  return kind === 'webrtc'
    ? WebRtcLeg.answer(id, offerSdp, config, options.allowedCodecs)
    : RtpLeg.answer(id, offerSdp, config, options.allowedCodecs);
}

/** Makes an offer for a callee's device of the given kind, with the codecs given (the caller leg's). */
export async function createOffer(
  id: string,
  kind: LegKind,
  config: MediaConfig,
  codecs: readonly NegotiatedCodec[],
): Promise<{ leg: MediaLeg; offerSdp: string }> {
  log.debug('making offer', { leg: id, kind });
  return kind === 'webrtc' ? WebRtcLeg.offer(id, config, codecs) : RtpLeg.offer(id, config, codecs);
}

/**
 * Limits an offer not yet sent (a caller's, when its INVITE had none) to the codec the callee answered with,
 * and returns it. Such offers are made by plain RTP legs only.
 */
export function narrowOffer(leg: MediaLeg, codec: NegotiatedCodec): string {
  if (!(leg instanceof RtpLeg)) throw new Error(`a ${leg.kind} leg makes no offer to narrow`);
  return leg.narrowOffer(codec);
}

/**
 * The audio codecs the caller's leg may be answered with so that every callee can be offered the same one:
 * the PBX relays without transcoding. When every callee is a WebRTC device, any codec of the caller's offer
 * that a WebRTC leg carries, Opus first; when any callee is a plain RTP device, only G.711 (PCMU, then PCMA).
 * Payload types are the caller's. An empty list means no codec fits (the call engine answers 488).
 */
export function chooseBridgeCodecs(callerOfferSdp: string, calleeKinds: readonly LegKind[]): NegotiatedCodec[] {
  const offered = describeAudio(parseSdp(callerOfferSdp)).codecs.filter((codec) => !isTelephoneEvent(codec));
  const candidates = calleeKinds.includes('rtp') ? G711 : SUPPORTED_AUDIO_CODECS;
  const chosen: NegotiatedCodec[] = [];
  for (const candidate of candidates) {
    const match = offered.find((codec) => sameCodec(codec, candidate));
    if (match) chosen.push({ ...candidate, payloadType: match.payloadType, ...(match.parameters !== undefined ? { parameters: match.parameters } : {}) });
  }
  return chosen;
}
