/**
 * An app that leaves an answered call without hanging up: its SIP WebSocket closed, most often because its page
 * reloaded. Browsers cannot carry a WebRTC session across a page load, so the app comes back, registered again,
 * with an INVITE whose Replaces header names its old dialog (features/pickup takes it over, as it moves a call
 * to another device). Meanwhile the party is `away`: the others hear music on hold (hold-music.ts). If the app has
 * not come back within the grace, the call ends as it would have at once, saying why in its record.
 *
 * Only an app's leg (WebRTC) in a call between two people waits; a desk phone's connection, a call still ringing,
 * a conference or a transfer under way end or go on as before.
 */
import { createLogger } from '../log';
import type { Call, Party } from './call';

const log = createLogger('calls');

/**
 * Starts the grace for `party` when it may rejoin, and returns true; false when it may not (the caller then
 * treats it as gone). `gone` is called with the reason once the grace has run out.
 */
export function awaitRejoin(call: Call, party: Party, graceMs: number, gone: (why: string) => void): boolean {
  const mayRejoin = party.media.kind === 'webrtc' && call.state === 'answered' && !call.answering && !call.screening && !call.conference && !call.transfer && call.other(party) !== undefined;
  if (!mayRejoin || party.away) return false;
  log.info('an app left a call; waiting for it to rejoin', { call: call.id, extension: party.line.identity.extension, graceMs });
  party.away = {
    since: Date.now(),
    timer: setTimeout(() => {
      if (party.gone) return;
      log.info('the app did not rejoin the call', { call: call.id, extension: party.line.identity.extension });
      gone(`app disconnected and did not rejoin within ${Math.round(graceMs / 1000)} s`);
    }, graceMs),
  };
  return true;
}
