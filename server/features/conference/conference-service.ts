/**
 * Conference: a user with two calls merges them into one, where every party hears all the others and never
 * themselves, mixed at the PBX (media/joins/mixer.ts) so that browsers (Opus) and desk phones (G.711) each keep
 * their own codec. More calls may be merged in (at least 10 parties), and the user who built it may remove
 * anyone. The user's leg in the call merged in ends (its app session closes, the first carries the
 * conference); when the builder hangs up, the others stay connected while two remain (call-engine.ts).
 *
 * The app reaches this through REST commands on its own legs (api/routes/calls.ts), named by their SIP
 * Call-IDs, as transfer is.
 */
import type { Call, CallControl, ConferenceJoin, Party } from '../../calls';
import { createLogger } from '../../log';
import { codecKind } from '../../media/joins/frame-codec';
import { Mixer } from '../../media/joins/mixer';

const log = createLogger('conference');

/** How many parties one conference carries at most. */
export const MAX_CONFERENCE_PARTIES = 16;

export type ConferenceOutcome = { ok: true } | { ok: false; status: number; reason: string };

/** The user the app's session belongs to. */
export interface ConferencingUser {
  organizationId: number;
  extension: string;
}

export interface ConferenceCommands {
  /** Merges the user's call with leg `withSipCallId` into the call with leg `sipCallId`. */
  merge(user: ConferencingUser, sipCallId: string, withSipCallId: string): Promise<ConferenceOutcome>;
  /** The conference's builder takes `extension` out of it: that party is hung up. */
  remove(user: ConferencingUser, sipCallId: string, extension: string): Promise<ConferenceOutcome>;
}

/** A call's mixer, as the call engine sees it. */
class Conference implements ConferenceJoin {
  constructor(
    readonly builder: string,
    readonly mixer: Mixer,
  ) {}

  partyLeft(party: Party): void {
    this.mixer.remove(party.media.id);
  }

  partyReplaced(old: Party, replacement: Party): void {
    this.mixer.remove(old.media.id);
    this.mixer.add(replacement.media);
  }

  close(): void {
    this.mixer.close();
  }
}

export class ConferenceService implements ConferenceCommands {
  constructor(private readonly calls: CallControl) {}

  async merge(user: ConferencingUser, sipCallId: string, withSipCallId: string): Promise<ConferenceOutcome> {
    const host = this.ownLeg(user, sipCallId);
    const other = this.ownLeg(user, withSipCallId);
    if (!host || !other) return { ok: false, status: 404, reason: 'That call is not one of yours' };
    if (host.call === other.call) return { ok: false, status: 409, reason: 'Those are the same call' };
    for (const { call } of [host, other]) {
      if (call.state !== 'answered' || call.screening) return { ok: false, status: 409, reason: 'Only answered calls can be merged' };
      if (call.transfer) return { ok: false, status: 409, reason: 'A transfer of this call is under way' };
    }
    const joining = other.call.parties.filter((p) => p !== other.party && !p.gone);
    if (joining.length === 0) return { ok: false, status: 409, reason: 'Nobody else is on the other call' };
    const staying = host.call.parties.filter((p) => !p.gone);
    if (staying.length + joining.length > MAX_CONFERENCE_PARTIES) return { ok: false, status: 409, reason: `A conference holds ${MAX_CONFERENCE_PARTIES} people at most` };
    // Checked before anything moves: a leg the mixer could not take would leave both calls without audio.
    if ([...staying, ...joining].some((p) => p.media.state === 'closed' || !p.media.codec || !codecKind(p.media.codec))) {
      return { ok: false, status: 488, reason: 'One of the calls uses an audio format the conference cannot mix' };
    }

    const conference = this.conferenceOf(host.call, user.extension);
    // The parties of the other call move into this one; its joins let go of their legs without closing them.
    for (const bridge of other.call.bridges.splice(0)) bridge.detach();
    other.call.conference?.close();
    other.call.conference = undefined;
    for (const party of joining) {
      other.call.parties.splice(other.call.parties.indexOf(party), 1);
      host.call.parties.push(party);
      this.calls.trackDialog(host.call, party);
      conference.mixer.add(party.media);
      this.calls.setLine(host.call, party.line, 'confirmed', host.party.line.identity);
    }
    // The user's leg in the other call ends: the conference goes on over their leg in this one.
    this.calls.sendBye(other.party.dialog);
    this.calls.dropParty(other.call, other.party);
    this.calls.endCall(other.call, 'answered', 'merged into a conference');
    log.info('calls merged', { call: host.call.id, merged: other.call.id, parties: host.call.parties.length, by: user.extension });
    this.calls.storeLegs(host.call);
    return { ok: true };
  }

  async remove(user: ConferencingUser, sipCallId: string, extension: string): Promise<ConferenceOutcome> {
    const host = this.ownLeg(user, sipCallId);
    if (!host) return { ok: false, status: 404, reason: 'That call is not one of yours' };
    const conference = host.call.conference;
    if (!conference) return { ok: false, status: 409, reason: 'This call is not a conference' };
    if (conference.builder !== user.extension) return { ok: false, status: 403, reason: 'Only the person who built the conference can remove others' };
    const party = host.call.parties.find((p) => !p.gone && p !== host.party && p.line.identity.extension === extension);
    if (!party) return { ok: false, status: 404, reason: `${extension} is not in this conference` };
    log.info('removing a party from the conference', { call: host.call.id, extension, by: user.extension });
    const remaining = host.call.parties.filter((p) => !p.gone && p !== party).length;
    if (remaining < 2) {
      // Only the builder would be left: the call ends, as a two-party call ends when one hangs up.
      this.calls.hangUp(host.call, 'answered', 'last other party removed from the conference');
      return { ok: true };
    }
    this.calls.sendBye(party.dialog);
    this.calls.dropParty(host.call, party);
    this.calls.storeLegs(host.call);
    return { ok: true };
  }

  /** The user's own leg with this SIP Call-ID, in a call of their organization. */
  private ownLeg(user: ConferencingUser, sipCallId: string): { call: Call; party: Party } | undefined {
    const entry = this.calls.findDialog(sipCallId);
    const party = entry?.party;
    if (!entry || !party || party.gone || entry.call.organizationId !== user.organizationId || party.line.identity.extension !== user.extension) return undefined;
    return { call: entry.call, party };
  }

  /** The call's conference, made now if it has none: its bridges let go of the legs and the mixer takes them. */
  private conferenceOf(call: Call, builder: string): Conference {
    if (call.conference instanceof Conference) return call.conference;
    const conference = new Conference(builder, new Mixer({ id: `conference ${call.id}` }));
    for (const bridge of call.bridges.splice(0)) bridge.detach();
    for (const party of call.parties) if (!party.gone) conference.mixer.add(party.media);
    call.conference = conference;
    log.info('conference begins', { call: call.id, builder });
    return conference;
  }
}
