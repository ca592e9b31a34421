import { describe, expect, it } from 'vitest';
import { WebSocketInterface } from 'jssip';
import { isTransientRegistrationFailure, registrarUri, uaConfiguration } from './user-agent';

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

describe('isTransientRegistrationFailure', () => {
  it('retries a timeout or a server error, not credentials the PBX refused', () => {
    // JsSIP's C.causes, written out as in the end-reason cases.
    expect(isTransientRegistrationFailure('Request Timeout')).toBe(true);
    expect(isTransientRegistrationFailure('SIP Failure Code')).toBe(true);
    expect(isTransientRegistrationFailure('Connection Error')).toBe(true);
    expect(isTransientRegistrationFailure('Authentication Error')).toBe(false);
    expect(isTransientRegistrationFailure('Rejected')).toBe(false);
    expect(isTransientRegistrationFailure('Not Found')).toBe(false);
  });
});
