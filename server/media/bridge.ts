/**
 * Joins two media legs: every RTP packet received on one is sent on the other. Both legs carry the same
 * codec (the callee is offered the caller's), so audio is relayed without decoding. Closing the bridge
 * closes its legs.
 */
import type { WebRtcLeg } from './webrtc-leg';

export class MediaBridge {
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly a: WebRtcLeg,
    readonly b: WebRtcLeg,
  ) {
    this.unsubscribe.push(
      a.on('rtp', (packet) => b.sendRtp(packet)),
      b.on('rtp', (packet) => a.sendRtp(packet)),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.a.close();
    this.b.close();
  }
}
