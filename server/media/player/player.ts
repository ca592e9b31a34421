/**
 * The media player: plays sounds (sound.ts) into media legs, each in the leg's own codec, as an RTP stream of
 * its own. Music on hold loops; a prompt plays once and says when it has ended.
 *
 * One player serves the whole process and paces every playback on one 20 ms clock (the mixer's Ticker,
 * mix-clock.ts), so a thousand playbacks cost one timer, not a thousand; the clock runs only while something
 * plays. Each tick a playback sends the next payload of its sound, coded once per codec for everyone
 * (`Sound.frames`). A late timer sends the frames it owes at once rather than dropping them, as the mixer
 * does, so what is heard keeps its pace.
 *
 * A playback follows its leg: frames wait while the leg is not yet connected (a prompt starts at its start),
 * a codec change (re-INVITE) is followed on the next frame, a codec the player cannot code is skipped in
 * silence, and a leg that closes ends the playback. The leg itself decides whether a frame goes out: one whose
 * far end put the call on hold sends nothing (RFC 3264 §6.1). The player owns its playbacks, never the legs.
 */
import { createLogger } from '../../log';
import { codecKind, FRAME_MS, MadeStream } from '../joins/frame-codec';
import type { CodecKind } from '../joins/frame-codec';
import { systemClock, Ticker } from '../joins/mix-clock';
import type { Clock, TickerStats } from '../joins/mix-clock';
import type { MediaLeg } from '../legs/media-leg';
import type { Sound } from './sound';

const log = createLogger('player');

/** Why a playback ended: the sound played to its end, its owner stopped it, its leg closed, or the player closed. */
export type PlaybackEnd = 'finished' | 'stopped' | 'leg-closed' | 'player-closed';

export interface PlayOptions {
  /** Starts again from the beginning at the end (music on hold); otherwise it plays once. */
  loop?: boolean;
  /** Told once, however the playback ended. */
  onEnded?: (why: PlaybackEnd) => void;
}

export interface Playback {
  readonly leg: MediaLeg;
  readonly sound: Sound;
  /** Frames sent so far. */
  readonly framesSent: number;
  readonly ended: boolean;
  /** Stops it; nothing more is sent. Safe to call again. */
  stop(): void;
}

class ActivePlayback implements Playback {
  framesSent = 0;
  ended = false;
  private position = 0;
  /** Our stream; the leg re-bases its numbering into its own. */
  private readonly stream = new MadeStream();
  private kind: CodecKind | undefined;
  /** RFC 3551 §4.1: the first packet of the stream, and the first after a codec change, is marked. */
  private markNext = true;
  private readonly offClosed: () => void;

  constructor(
    readonly leg: MediaLeg,
    readonly sound: Sound,
    private readonly loop: boolean,
    private readonly onEnded: ((why: PlaybackEnd) => void) | undefined,
    private readonly release: (playback: ActivePlayback) => void,
  ) {
    this.offClosed = leg.on('stateChanged', (state) => {
      if (state === 'closed') this.end('leg-closed');
    });
  }

  /** Sends this tick's frame, if the leg can take one. */
  tick(): void {
    if (this.ended) return;
    const leg = this.leg;
    if (leg.state === 'closed') {
      this.end('leg-closed');
      return;
    }
    if (leg.state !== 'connected') return;
    const codec = leg.codec;
    const kind = codec && codecKind(codec);
    if (kind !== this.kind) {
      this.kind = kind;
      this.markNext = true;
    }
    if (codec && kind) {
      const payload = this.sound.frame(kind, this.position);
      // The payload is shared by every playback of this sound; the leg never writes it (MadeStream).
      const frame = this.stream.frame(payload, codec.payloadType, kind, this.markNext);
      this.framesSent++;
      this.markNext = false;
      leg.sendRtp(frame);
    } else {
      // A codec the player cannot code: the time passes in silence, with the timestamps moving on.
      this.stream.skip(codec ? (codec.clockRate * FRAME_MS) / 1000 : 160);
    }
    this.position++;
    if (this.position >= this.sound.frameCount) {
      if (this.loop) this.position = 0;
      else this.end('finished');
    }
  }

  stop(): void {
    this.end('stopped');
  }

  end(why: PlaybackEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.offClosed();
    this.release(this);
    try {
      this.onEnded?.(why);
    } catch (error) {
      log.warn('a playback end handler failed', { leg: this.leg.id, error });
    }
  }
}

export interface MediaPlayerOptions {
  clock?: Clock;
}

export class MediaPlayer {
  private readonly playbacks = new Set<ActivePlayback>();
  private readonly ticker: Ticker;
  /** Inside a tick, where the clock is not stopped (a playback that ends may start another in its handler). */
  private ticking = false;

  constructor(options: MediaPlayerOptions = {}) {
    this.ticker = new Ticker(options.clock ?? systemClock, FRAME_MS, () => this.tick());
  }

  /** Playbacks under way. */
  get active(): number {
    return this.playbacks.size;
  }

  get clockStats(): TickerStats {
    return this.ticker.stats;
  }

  /** Plays `sound` into `leg` from its start, on the next tick. */
  play(leg: MediaLeg, sound: Sound, options: PlayOptions = {}): Playback {
    const playback = new ActivePlayback(leg, sound, options.loop ?? false, options.onEnded, (done) => this.release(done));
    if (leg.state === 'closed') {
      playback.end('leg-closed');
      return playback;
    }
    this.playbacks.add(playback);
    this.ticker.start();
    log.debug('playing', { leg: leg.id, sound: sound.name, loop: options.loop ?? false });
    return playback;
  }

  /** Ends every playback (each told `player-closed`) and stops the clock. */
  close(): void {
    for (const playback of [...this.playbacks]) playback.end('player-closed');
    this.ticker.stop();
  }

  private tick(): void {
    this.ticking = true;
    try {
      for (const playback of this.playbacks) {
        try {
          playback.tick();
        } catch (error) {
          log.warn('a playback failed; it ends', { leg: playback.leg.id, error });
          playback.end('stopped');
        }
      }
    } finally {
      this.ticking = false;
    }
    if (this.playbacks.size === 0) this.ticker.stop();
  }

  private release(playback: ActivePlayback): void {
    this.playbacks.delete(playback);
    if (this.playbacks.size === 0 && !this.ticking) this.ticker.stop();
  }
}
