/**
 * The SIP transport settings of `offhook-pbx serve`, as a person types them.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseServeConfig } from './config';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseServeConfig(argv, env, { webRoot: '/tmp/web' });

describe('SIP transport settings', () => {
  it('listen on 5060 (UDP, TCP) and 5061 (TLS) unless told otherwise', () => {
    expect(parse([])).toMatchObject({ sipUdpPort: 5060, sipTcpPort: 5060, sipTlsPort: 5061, tlsCert: undefined, tlsKey: undefined });
  });

  it('take 0 for a free port, and off or -1 to turn a transport off, from flags or the environment', () => {
    const config = parse(['--sip-udp-port', '0', '--sip-tcp-port=off', '--sip-tls-port', '-1']);
    expect(config.sipUdpPort).toBe(0);
    expect(config.sipTcpPort).toBeUndefined();
    expect(config.sipTlsPort).toBeUndefined();
    expect(parse([], { OFFHOOK_SIP_UDP_PORT: '5080' }).sipUdpPort).toBe(5080);
  });

  it('refuse a port that is not one, with a sentence', () => {
    expect(() => parse(['--sip-udp-port', '70000'])).toThrow(new ConfigError('--sip-udp-port must be a port number from 0 to 65535, or off, not "70000".'));
    expect(() => parse(['--sip-tcp-port', '50.5'])).toThrow(ConfigError);
  });

  it('need the TLS certificate and key together, and resolve them to absolute paths', () => {
    expect(() => parse(['--tls-cert', 'cert.pem'])).toThrow(new ConfigError('--tls-cert and --tls-key go together.'));
    const config = parse(['--tls-cert', 'cert.pem', '--tls-key', 'key.pem']);
    expect(config.tlsCert).toMatch(/^\/.*cert\.pem$/);
    expect(config.tlsKey).toMatch(/^\/.*key\.pem$/);
  });
});

describe('trusted SIP sources', () => {
  it('are none unless given, and a comma-separated list of addresses from the flag or the environment', () => {
    expect(parse([]).sipTrustedSources).toEqual([]);
    expect(parse(['--sip-trusted-sources', '127.0.0.1, ::1']).sipTrustedSources).toEqual(['127.0.0.1', '::1']);
    expect(parse([], { OFFHOOK_SIP_TRUSTED_SOURCES: '10.0.0.5,10.0.0.6' }).sipTrustedSources).toEqual(['10.0.0.5', '10.0.0.6']);
  });

  it('refuse a host name, which the security layer would never match', () => {
    expect(() => parse(['--sip-trusted-sources', 'proxy.example.com'])).toThrow(
      new ConfigError('--sip-trusted-sources takes IP addresses separated by commas, not "proxy.example.com".'),
    );
  });
});

describe('the media timeout', () => {
  it('is 60 s unless told otherwise, 0 turns it off, and it comes from the flag or the environment', () => {
    expect(parse([]).mediaTimeoutS).toBe(60);
    expect(parse(['--media-timeout', '0']).mediaTimeoutS).toBe(0);
    expect(parse(['--media-timeout', '1.5']).mediaTimeoutS).toBe(1.5);
    expect(parse([], { OFFHOOK_MEDIA_TIMEOUT: '120' }).mediaTimeoutS).toBe(120);
  });

  it('refuses what is not a number of seconds, with a sentence naming the flag', () => {
    expect(() => parse(['--media-timeout', 'soon'])).toThrow(new ConfigError('--media-timeout must be a number of seconds from 0 to 86400, not "soon".'));
    expect(() => parse(['--media-timeout', '-5'])).toThrow(ConfigError);
    expect(() => parse(['--media-timeout', '100000'])).toThrow(ConfigError);
  });
});
