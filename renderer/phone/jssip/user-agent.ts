/**
 * The JsSIP user agent: its configuration from the credentials the PBX issued, which registration failures are
 * final, and the signalling link through which the connection keeper probes, replaces and re-registers it.
 */
import { C, URI, WebSocketInterface } from 'jssip';
import type { UA, UAConfiguration } from 'jssip/lib/UA';
import type { SipCredentials } from '../../../shared/api';
import { createLogger, describeError } from '../../log';
import type { SignallingLink } from '../connection-keeper';

const log = createLogger('phone.ua');

/** Seconds a registration lasts before JsSIP refreshes it. */
const REGISTER_EXPIRES = 300;

/**
 * JsSIP's own reconnection runs on its own timer whenever a socket closes; `ConnectionKeeper` decides when to
 * reconnect instead (with its keep-alive, wake signals and backoff), so JsSIP's is pushed out to an hour, where
 * it can only ever be a harmless second try.
 */
const JSSIP_RECOVERY_SECONDS = 3_600;

/** Registration failures that trying again cannot fix: the PBX refused these credentials. */
const FINAL_REGISTRATION_CAUSES: readonly string[] = [C.causes.AUTHENTICATION_ERROR, C.causes.REJECTED, C.causes.NOT_FOUND];

/**
 * Parts of JsSIP 3.13's UA that its type declarations leave out: the transport (to replace a dead socket) and
 * sendOptions (the keep-alive).
 */
interface UaWithTransport {
  readonly transport: { connect(): void; disconnect(): void };
  sendOptions(
    target: string,
    body: string | null,
    options: { eventHandlers: { succeeded(): void; failed(event: { originator: string; cause?: string }): void } },
  ): unknown;
}

export function uaConfiguration(sip: SipCredentials): UAConfiguration {
  return {
    sockets: [new WebSocketInterface(sip.wsUrl)],
    uri: sip.uri,
    authorization_user: sip.authorizationUser,
    password: sip.password,
    realm: sip.realm,
    display_name: sip.displayName,
    register: true,
    register_expires: REGISTER_EXPIRES,
    // The PBX keeps its own watch on each leg; RFC 4028 refreshes would only add re-INVITEs.
    session_timers: false,
    connection_recovery_min_interval: JSSIP_RECOVERY_SECONDS,
    connection_recovery_max_interval: JSSIP_RECOVERY_SECONDS,
  };
}

/** A registration failure worth retrying (a timeout, a 5xx), as opposed to credentials the PBX refused. */
export function isTransientRegistrationFailure(cause: unknown): boolean {
  return !FINAL_REGISTRATION_CAUSES.includes(String(cause));
}

/** Where the keep-alive OPTIONS go: the registrar's domain, taken from our own address of record. */
export function registrarUri(aor: string): string {
  const host = URI.parse(aor)?.host;
  return `sip:${host ?? aor.replace(/^sips?:(?:[^@]*@)?/, '')}`;
}

/** The UA as the connection keeper sees it; `aor` is our own address of record. */
export function signallingLink(ua: UA, aor: string): SignallingLink {
  const internals = ua as unknown as UaWithTransport;
  const target = registrarUri(aor);
  return {
    isConnected: () => ua.isConnected(),
    probe: (done) => {
      try {
        internals.sendOptions(target, null, {
          eventHandlers: {
            succeeded: () => done(true),
            // Any response at all, even an error, proves the socket carries messages both ways.
            failed: (event) => done(String(event.originator) === 'remote'),
          },
        });
      } catch (error) {
        log.warn('could not send the keep-alive', { error: describeError(error) });
        done(false);
      }
    },
    connect: () => internals.transport.connect(),
    drop: () => internals.transport.disconnect(),
    register: () => ua.register(),
  };
}
