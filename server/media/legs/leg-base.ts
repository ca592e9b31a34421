/**
 * What every media leg does alike, whatever carries it (plain RTP for desk phones, WebRTC for browsers): its
 * state (new → connecting → connected, or failed; closed at the end, once, told in `stateChanged`), the far
 * end's direction, whom a join has put it beside (`bridged`, which decides whether the native relay may carry
 * its audio), RFC 4733 key presses out, and the send rule: audio goes out only while connected and while the
 * far end has not asked to receive nothing (RFC 3264 §6.1). Each kind adds its transport and negotiation.
 */
import { createLogger } from '../../log';
import { TypedEmitter } from '../../util/typed-emitter';
import { remoteReceives } from '../sdp/sdp';
import type { DtmfSender } from './dtmf';
import type { DtmfEvent, LegState, MediaDirection, MediaLeg, MediaLegEvents, NegotiatedCodec } from './media-leg';

const log = createLogger('media');

export abstract class LegBase extends TypedEmitter<MediaLegEvents> {
  protected stateValue: LegState = 'new';
  protected remoteDirectionValue: MediaDirection = 'sendrecv';
  /** The legs a join has put this one beside. */
  protected readonly peers = new Set<MediaLeg>();
  protected abstract readonly dtmfSender: DtmfSender;

  constructor(readonly id: string) {
    super();
  }

  get state(): LegState {
    return this.stateValue;
  }

  get remoteDirection(): MediaDirection {
    return this.remoteDirectionValue;
  }

  /** The negotiated telephone-event (RFC 4733) at the audio codec's clock rate, if the far end accepted one. */
  protected abstract get telephoneEvent(): NegotiatedCodec | undefined;

  /** Where the audio may go now that the leg's state or its peers changed (the native relay, or Node). */
  protected abstract syncRelay(): void;

  sendDtmf(event: DtmfEvent): void {
    if (!this.telephoneEvent) {
      log.debug('dtmf not sent: telephone-event not negotiated', { leg: this.id });
      return;
    }
    void this.dtmfSender.send(event);
  }

  /**
   * A join put this leg beside `peer`, or let go of it, or `peer` changed state. While a leg is bridged to
   * exactly one other open leg and both have native relay sockets, their audio goes from socket to socket in
   * the relay (see each kind's syncRelay).
   */
  bridged(peer: MediaLeg, joined: boolean): void {
    if (joined) this.peers.add(peer);
    else this.peers.delete(peer);
    this.syncRelay();
  }

  protected canSend(): boolean {
    return this.stateValue === 'connected' && remoteReceives(this.remoteDirectionValue);
  }

  protected setState(state: LegState): void {
    if (this.stateValue === state || this.stateValue === 'closed') return;
    this.stateValue = state;
    this.onState(state);
    this.syncRelay();
    this.emit('stateChanged', state);
  }

  /** What a kind does as its state changes, before the relay and the listeners hear of it. */
  protected onState(_state: LegState): void {}

  /** The part of closing every kind shares: closed once, key presses stopped, peers and listeners let go. */
  protected closeBase(): void {
    this.setState('closed');
    this.dtmfSender.close();
    this.peers.clear();
  }
}
