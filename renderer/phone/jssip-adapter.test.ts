import { describe, expect, it } from 'vitest';
import { WebSocketInterface } from 'jssip';
import { endReasonFor, registrarUri, uaConfiguration } from './jssip-adapter';
import type { EndFacts } from './jssip-adapter';

// The strings JsSIP reports as `cause` (its C.causes), written out so that a change in JsSIP shows up here.
const BYE = 'Terminated';

describe('endReasonFor', () => {
  const cases: Array<[string, EndFacts, string]> = [
    ['we hang up an answered call', { event: 'ended', originator: 'local', cause: BYE, direction: 'outgoing' }, 'hung-up-local'],
    ['they hang up an answered call', { event: 'ended', originator: 'remote', cause: BYE, direction: 'incoming' }, 'hung-up-remote'],
    ['media stops flowing', { event: 'ended', originator: 'local', cause: 'RTP Timeout', direction: 'outgoing' }, 'failed'],
    ['the connection drops mid-call', { event: 'ended', originator: 'system', cause: 'Connection Error', direction: 'incoming' }, 'failed'],
    ['we cancel our call', { event: 'failed', originator: 'local', cause: 'Canceled', direction: 'outgoing' }, 'cancelled'],
    ['the caller gives up', { event: 'failed', originator: 'remote', cause: 'Canceled', direction: 'incoming' }, 'missed'],
    ['nobody answers our call', { event: 'failed', originator: 'remote', cause: 'No Answer', direction: 'outgoing' }, 'unavailable'],
    ['we let it ring out', { event: 'failed', originator: 'local', cause: 'No Answer', direction: 'incoming' }, 'missed'],
    ['we decline', { event: 'failed', originator: 'local', cause: 'Rejected', direction: 'incoming' }, 'declined'],
    ['they decline (403/603)', { event: 'failed', originator: 'remote', cause: 'Rejected', direction: 'outgoing' }, 'declined'],
    ['they are busy (486/600)', { event: 'failed', originator: 'remote', cause: 'Busy', direction: 'outgoing' }, 'busy'],
    ['they are unavailable (480)', { event: 'failed', originator: 'remote', cause: 'Unavailable', direction: 'outgoing' }, 'unavailable'],
    ['the number does not exist (404)', { event: 'failed', originator: 'remote', cause: 'Not Found', direction: 'outgoing' }, 'not-found'],
    ['the number is incomplete (484)', { event: 'failed', originator: 'remote', cause: 'Address Incomplete', direction: 'outgoing' }, 'not-found'],
    ['the microphone is refused', { event: 'failed', originator: 'local', cause: 'User Denied Media Access', direction: 'incoming' }, 'failed'],
    ['the PBX cannot be reached', { event: 'failed', originator: 'system', cause: 'Request Timeout', direction: 'outgoing' }, 'failed'],
    ['the PBX answers with another error', { event: 'failed', originator: 'remote', cause: 'SIP Failure Code', direction: 'outgoing' }, 'failed'],
  ];

  it.each(cases)('when %s', (_story, facts, reason) => {
    expect(endReasonFor(facts)).toBe(reason);
  });
});

describe('uaConfiguration', () => {
  it('registers with the credentials the server issued', () => {
    const config = uaConfiguration({
      uri: 'sip:101@pbx.example.org',
      wsUrl: 'wss://pbx.example.org/sip',
      authorizationUser: '101',
      password: 'session-secret',
      realm: 'pbx.example.org',
      displayName: 'Ada Lovelace',
    });
    expect(config).toMatchObject({
      uri: 'sip:101@pbx.example.org',
      authorization_user: '101',
      password: 'session-secret',
      realm: 'pbx.example.org',
      display_name: 'Ada Lovelace',
      register: true,
      register_expires: 300,
      session_timers: false,
      // The connection keeper reconnects; JsSIP's own recovery is pushed out of its way.
      connection_recovery_min_interval: 3_600,
      connection_recovery_max_interval: 3_600,
    });
    expect(config.sockets).toHaveLength(1);
    const [socket] = config.sockets as WebSocketInterface[];
    expect(socket).toBeInstanceOf(WebSocketInterface);
    expect(socket?.url).toBe('wss://pbx.example.org/sip');
  });
});

describe('registrarUri', () => {
  it('sends the keep-alive to the domain of our address of record', () => {
    expect(registrarUri('sip:101@pbx.example.org')).toBe('sip:pbx.example.org');
    expect(registrarUri('sip:101@10.0.0.5:5060;transport=ws')).toBe('sip:10.0.0.5');
  });
});
