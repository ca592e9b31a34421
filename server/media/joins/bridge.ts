/**
 * Joins two media legs of any kind (WebRTC or plain RTP): audio received on one is sent on the other, and a
 * key press received on one (RFC 4733, reported once at its end) is sent on the other as a new event. Both
 * legs carry the same codec (see `chooseBridgeCodecs` in `legs.ts`), so audio is relayed without decoding;
 * each leg rewrites SSRC, sequence numbers, timestamps and payload type for its own stream.
 * telephone-event packets never cross as audio: the legs keep them out of their `rtp` events.
 *
 * Hold (RFC 3264 §8.4): a leg whose remote side last offered sendonly or inactive has put the call on hold.
 * While either leg holds, the bridge relays no audio in either direction:
 * - toward the holder, because it asked not to receive (RFC 3264 §6.1; the leg enforces this too);
 * - from the holder to its peer, because what a holding phone sends on a sendonly stream is not the
 *   conversation (often a muted microphone); the held party hears silence until an application of the
 *   PBX (music on hold, park) plays to it.
 * Key presses are still relayed, so a held party can reach an IVR behind the bridge, unless the target
 * leg's remote asked not to receive. Closing the bridge closes its legs.
 *
 * Each leg is told whom it is bridged to (`MediaLeg.bridged`): two legs bridged only to each other, each with a
 * native relay socket (a plain RTP leg's, or a WebRTC leg's once its SRTP is keyed), relay their audio in the
 * native relay, by the same rules, and only what it leaves comes through here.
 */
import { createLogger } from '../../log';
import type { MediaLeg } from '../legs/media-leg';
import { holds, sameCodec } from '../sdp/sdp';

const log = createLogger('media');

export class MediaBridge {
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly a: MediaLeg,
    readonly b: MediaLeg,
  ) {
    if (a.codec && b.codec && !sameCodec(a.codec, b.codec)) {
      log.warn('bridged legs carry different codecs; audio will not be understood', { a: a.id, b: b.id, codecA: a.codec.mimeType, codecB: b.codec.mimeType });
    }
    this.unsubscribe.push(
      a.on('rtp', (packet) => {
        if (this.relaysAudio()) b.sendRtp(packet);
      }),
      b.on('rtp', (packet) => {
        if (this.relaysAudio()) a.sendRtp(packet);
      }),
      a.on('dtmf', (event) => b.sendDtmf(event)),
      b.on('dtmf', (event) => a.sendDtmf(event)),
      // A leg that closes (a fork that lost, a replaced device) leaves its peer, which may then relay directly;
      // one that connects may now have a relay socket its peer can relay into.
      a.on('stateChanged', (state) => b.bridged(a, state !== 'closed')),
      b.on('stateChanged', (state) => a.bridged(b, state !== 'closed')),
    );
    a.bridged(b, true);
    b.bridged(a, true);
  }

  /** False while either leg's remote side holds the call. */
  relaysAudio(): boolean {
    return !holds(this.a.remoteDirection) && !holds(this.b.remoteDirection);
  }

  close(): void {
    if (this.closed) return;
    this.detach();
    this.a.close();
    this.b.close();
  }

  /**
   * Stops relaying and lets go of both legs without closing them, for a join that takes them over (a
   * conference's mixer): their audio comes to Node again, not through the native relay between them.
   */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.a.bridged(this.b, false);
    this.b.bridged(this.a, false);
  }
}
