/**
 * Music on hold, and telling both sides that a call is held. A party holds a call when its device last offered
 * sendonly or inactive (RFC 3264 §8.4; the bridge then relays nothing either way), or while its app is away
 * reloading (rejoin in call-engine.ts). Then each other party that has not itself asked not to receive hears
 * the PBX's hold music, in its own codec, from the process's one media player; and every line of the call
 * carries who holds it (`Line.heldBy`), which the call feed turns into a `held` call event for each app.
 *
 * `refresh` works the state out from the call as it stands, so it is safe to call after anything that may
 * have changed it (a re-INVITE, a party that left or was replaced, a transfer): a party moved into a bridge
 * with someone who does not hold stops hearing music at once. Only a call between two people has music: a
 * conference's mixer already leaves out whoever holds, and the others go on talking.
 */
import { holds } from '../media/sdp/sdp';
import { holdMusic } from '../media/player';
import type { MediaPlayer, Sound } from '../media/player';
import type { Call, Line, Party } from './call';

/** Whether `party` holds the call: on hold from its device, or its app away. */
export function isHolding(party: Party): boolean {
  return !party.gone && (party.away !== undefined || holds(party.media.remoteDirection));
}

export class HoldMusic {
  constructor(
    private readonly player: MediaPlayer,
    /** The music: the shipped excerpt when undefined (read when first needed), silence when null. */
    private readonly music: Sound | null | undefined,
    /** A line's `heldBy` changed while it is confirmed: its user is told. */
    private readonly lineChanged: (call: Call, line: Line) => void,
  ) {}

  refresh(call: Call): void {
    const parties = [...call.parties];
    const present = call.ended ? [] : parties.filter((party) => !party.gone);
    const twoParty = call.state === 'answered' && !call.conference && present.length === 2;
    const holders = twoParty ? present.filter(isHolding) : [];
    for (const party of parties) {
      const heldByOther = holders.find((holder) => holder !== party);
      const heldBy = heldByOther ?? (holders.includes(party) ? party : undefined);
      const hearsMusic = heldByOther !== undefined && !party.gone && party.away === undefined && !holds(party.media.remoteDirection);
      if (hearsMusic) this.play(party);
      else this.silence(party);
      if (party.gone || party.line.heldBy?.extension === heldBy?.line.identity.extension) continue;
      party.line.heldBy = heldBy?.line.identity;
      if (party.line.state === 'confirmed') this.lineChanged(call, party.line);
    }
  }

  private play(party: Party): void {
    if (party.music && !party.music.ended) return;
    const sound = this.music === undefined ? holdMusic() : (this.music ?? undefined);
    if (sound) party.music = this.player.play(party.media, sound, { loop: true });
  }

  private silence(party: Party): void {
    party.music?.stop();
    party.music = undefined;
  }
}
