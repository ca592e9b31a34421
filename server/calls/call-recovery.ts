/**
 * Ending calls the PBX did not live to end. While a call is up, each of its legs is stored with what a BYE
 * needs (RFC 3261 §12.2.1.1: Call-ID, tags, URIs, remote target, route set, CSeq, and the flow it went
 * over: server/store/active-calls.ts). At the next start the store records those calls as ended at the last
 * heartbeat, and here every leg the PBX can still reach gets its BYE, so no phone waits in a dead dialog:
 *
 * - UDP: at the address and port the device's messages came from, through the UDP socket, which listens on
 *   the same port as before (the device takes a BYE only from where its dialog's requests came).
 * - TCP/TLS: the connection died with the process; a new one to where the device listens (its remote
 *   target), under the registrar's rule for that (reconnectTarget). Not through a route set: which of the
 *   proxies would take a connection from us is not ours to guess.
 * - WebSocket: nothing. A browser or the app reconnects on its own and knows its calls are gone.
 */
import { createLogger } from '../log';
import type { CrashedCall, StoredLeg } from '../store/active-calls';
import type { SipConnection } from '../sip/transport/connection';
import { Dialog } from '../sip/dialog/dialog';
import type { SipEndpoint } from '../sip/endpoint';
import { parseUri } from '../sip/syntax/message';
import { reconnectTarget } from '../presence/registrar';
import type { StreamConnector } from '../presence/registrar';

const log = createLogger('call-recovery');

/**
 * Added to a leg's stored CSeq in its recovery BYE. Stored legs are brought up to date at every heartbeat, so
 * only the requests sent within one heartbeat of the crash (a session refresh, relayed INFOs) are missing from
 * it; RFC 3261 §12.2.1.1 asks only that the CSeq grow, and a device refuses a lower one (§12.2.2: 500).
 */
export const RECOVERY_CSEQ_MARGIN = 100;
/** How long a new TCP/TLS connection to a device may take. */
const CONNECT_TIMEOUT_MS = 2_000;

/** What a BYE on this dialog will need, should the PBX die. Made for every answered call: no object spread (slow in V8). */
export function legOf(dialog: Dialog): StoredLeg {
  const connection = dialog.connection;
  return {
    callId: dialog.callId,
    localTag: dialog.localTag,
    remoteTag: dialog.remoteTag,
    localUri: dialog.localUri,
    remoteUri: dialog.remoteUri,
    remoteTarget: dialog.remoteTarget,
    routeSet: [...dialog.routeSet],
    nextCseq: dialog.localCseq + 1,
    transport: connection.transport,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
  };
}

/** The dialogs of a call as last stored, each with the CSeq it had then. */
export type StoredLegsMark = ReadonlyArray<readonly [Dialog, number]>;

export function markLegs(dialogs: readonly Dialog[]): StoredLegsMark {
  return dialogs.map((dialog) => [dialog, dialog.localCseq] as const);
}

/** Whether a call's legs are no longer what was stored: other dialogs, or requests sent since. */
export function legsMoved(mark: StoredLegsMark, dialogs: readonly Dialog[]): boolean {
  if (mark.length !== dialogs.length) return true;
  return dialogs.some((dialog, i) => mark[i]?.[0] !== dialog || mark[i]?.[1] !== dialog.localCseq);
}

/** How the PBX reaches a device again after a restart. */
export interface LegReach {
  /** The UDP flow to an address and port; undefined when UDP is off or at its limits. */
  udpFlow?: (address: string, port: number) => SipConnection | undefined;
  connect?: StreamConnector;
}

/** The BYE for a stored leg, over `connection`. */
export function byeFor(leg: StoredLeg, connection: SipConnection): ReturnType<Dialog['createRequest']> {
  const dialog = new Dialog({
    callId: leg.callId,
    localTag: leg.localTag,
    remoteTag: leg.remoteTag,
    localUri: leg.localUri,
    remoteUri: leg.remoteUri,
    remoteTarget: leg.remoteTarget,
    localCseq: leg.nextCseq - 1 + RECOVERY_CSEQ_MARGIN,
    routeSet: leg.routeSet,
    connection,
    state: 'confirmed',
  });
  return dialog.createRequest('BYE');
}

async function reach(leg: StoredLeg, how: LegReach): Promise<SipConnection | undefined> {
  switch (leg.transport) {
    case 'UDP':
      return how.udpFlow?.(leg.remoteAddress, leg.remotePort);
    case 'TCP':
    case 'TLS': {
      if (leg.routeSet.length > 0 || !how.connect) return undefined;
      let target;
      try {
        target = reconnectTarget(leg.transport, parseUri(leg.remoteTarget), leg.remoteAddress);
      } catch {
        return undefined;
      }
      if (!target) return undefined;
      try {
        return await how.connect(leg.transport, target.host, target.port, CONNECT_TIMEOUT_MS);
      } catch (error) {
        log.info('could not reach a device to hang up its call', { callId: leg.callId, error: error instanceof Error ? error.message : String(error) });
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/**
 * Sends a BYE to every leg of the calls a crash left that can still be reached; resolves, once each has been
 * sent or given up, with how many were sent. The answers (200, or 481 from a device that gave up meanwhile)
 * end their transactions and nothing more. Never rejects.
 */
export async function hangUpCallsLeftByCrash(calls: readonly CrashedCall[], endpoint: Pick<SipEndpoint, 'sendRequest'>, how: LegReach): Promise<number> {
  let sent = 0;
  let unreachable = 0;
  await Promise.all(
    calls.flatMap((call) =>
      call.legs.map(async (leg) => {
        const connection = await reach(leg, how);
        if (!connection) {
          unreachable++;
          return;
        }
        try {
          endpoint.sendRequest(byeFor(leg, connection), connection, (response) => {
            if (response.status >= 200) log.debug('recovery BYE answered', { call: call.id, callId: leg.callId, status: response.status });
          });
          sent++;
        } catch (error) {
          unreachable++;
          log.warn('could not send a BYE for a call left by a crash', { call: call.id, error });
        }
      }),
    ),
  );
  if (calls.length > 0) log.info('hung up the calls left by a crash', { calls: calls.length, byes: sent, unreachable });
  return sent;
}
