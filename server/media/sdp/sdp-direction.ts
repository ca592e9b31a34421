/**
 * The little SDP the signalling layer reads itself: the direction attribute that puts a call on hold
 * (RFC 3264 §8.4) and the origin version that marks a changed session (RFC 3264 §8). Everything else in a
 * session description belongs to the media legs.
 */
import type { MediaDirection } from '../legs/media-leg';

const DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1);
}

/** The direction of the first audio stream, falling back to the session level, then sendrecv (RFC 3264 §6.1). */
export function sdpDirection(sdp: string): MediaDirection {
  let session: MediaDirection | undefined;
  let inAudio = false;
  let seenMedia = false;
  for (const line of lines(sdp)) {
    if (line.startsWith('m=')) {
      if (seenMedia && inAudio) break;
      seenMedia = true;
      inAudio = line.startsWith('m=audio');
      continue;
    }
    const attribute = line.startsWith('a=') ? (line.slice(2).trim() as MediaDirection) : undefined;
    if (!attribute || !DIRECTIONS.includes(attribute)) continue;
    if (!seenMedia) session = attribute;
    else if (inAudio) return attribute;
  }
  return session ?? 'sendrecv';
}

/** RFC 3264 §6.1: the answer to sendonly is recvonly, to recvonly sendonly, to inactive inactive. */
export function answeringDirection(offered: MediaDirection): MediaDirection {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

/** True when the offer puts its sender on hold toward us (RFC 3264 §8.4). */
export function isHold(direction: MediaDirection): boolean {
  return direction === 'sendonly' || direction === 'inactive';
}

/** Sets the direction of every media stream, dropping any session-level direction. */
export function withDirection(sdp: string, direction: MediaDirection): string {
  const out: string[] = [];
  let seenMedia = false;
  for (const line of lines(sdp)) {
    if (line.startsWith('a=') && DIRECTIONS.includes(line.slice(2).trim() as MediaDirection)) continue;
    if (line.startsWith('m=')) {
      seenMedia = true;
      out.push(line, `a=${direction}`);
      continue;
    }
    out.push(line);
  }
  if (!seenMedia) return sdp;
  return `${out.join('\r\n').replace(/(\r\n)+$/, '')}\r\n`;
}

/** RFC 3264 §8: a changed session description carries the next origin version. */
export function nextVersion(sdp: string): string {
  return sdp.replace(/^(o=\S+ \S+ )(\d+)/m, (_match, head: string, version: string) => `${head}${(BigInt(version) + 1n).toString()}`);
}

/**
 * Our answer to a new offer on a leg whose transport and codec do not change: the session we already
 * described, with the direction that answers the offer's. Used while a leg cannot renegotiate itself.
 */
export function answerKeepingSession(currentLocalSdp: string, offerSdp: string): string {
  const wanted = answeringDirection(sdpDirection(offerSdp));
  // Our last description may have been an offer; an answer must take a DTLS role (RFC 5763 §5).
  const offeredSetup = /^a=setup:(\w+)/m.exec(offerSdp)?.[1];
  const base = currentLocalSdp.replace(/^a=setup:actpass$/m, `a=setup:${offeredSetup === 'passive' ? 'active' : 'passive'}`);
  // An unchanged session keeps its version (RFC 3264 §8).
  if (base === currentLocalSdp && sdpDirection(currentLocalSdp) === wanted) return currentLocalSdp;
  return nextVersion(withDirection(base, wanted));
}
