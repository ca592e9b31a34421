/**
 * The SIP transport settings of `offhook-pbx serve`, as a person types them.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatBytes, parseBytes, parseServeConfig, SETTINGS } from './config';

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

describe('resource limits', () => {
  it('have their defaults unless told otherwise', () => {
    expect(parse([])).toMatchObject({
      sipMaxConnections: 10_000,
      sipMaxConnectionsPerAddress: 256,
      tlsHandshakeTimeoutS: 10,
      sipMaxHeldBytes: 256 * 1024 * 1024,
      sipMaxHeldBytesPerAddress: 4 * 1024 * 1024,
      httpMaxConnections: 1_000,
      httpMaxConnectionsPerAddress: 256,
      httpRequestTimeoutS: 30,
      httpIdleTimeoutS: 60,
      openFilesReserve: 256,
    });
  });

  it('come from the flag, else the environment', () => {
    const config = parse(
      ['--sip-max-connections', '500', '--sip-max-connections-per-address=20', '--tls-handshake-timeout', '2.5', '--sip-max-held-bytes', '64M', '--http-idle-timeout', '5'],
      { OFFHOOK_SIP_MAX_HELD_BYTES_PER_ADDRESS: '512K', OFFHOOK_HTTP_MAX_CONNECTIONS: '300', OFFHOOK_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '30', OFFHOOK_HTTP_REQUEST_TIMEOUT: '12', OFFHOOK_OPEN_FILES_RESERVE: '0', OFFHOOK_SIP_MAX_CONNECTIONS: '9' },
    );
    expect(config).toMatchObject({
      sipMaxConnections: 500,
      sipMaxConnectionsPerAddress: 20,
      tlsHandshakeTimeoutS: 2.5,
      sipMaxHeldBytes: 64 * 1024 * 1024,
      sipMaxHeldBytesPerAddress: 512 * 1024,
      httpMaxConnections: 300,
      httpMaxConnectionsPerAddress: 30,
      httpRequestTimeoutS: 12,
      httpIdleTimeoutS: 5,
      openFilesReserve: 0,
    });
  });

  it('refuse what is not a count, a duration or a size, with a sentence naming the flag', () => {
    expect(() => parse(['--sip-max-connections', '0'])).toThrow(new ConfigError('--sip-max-connections must be a whole number from 1 to 10000000, not "0".'));
    expect(() => parse(['--http-max-connections-per-address', 'many'])).toThrow(ConfigError);
    expect(() => parse(['--tls-handshake-timeout', '0'])).toThrow(new ConfigError('--tls-handshake-timeout must be a number of seconds above 0, up to 86400, not "0".'));
    expect(() => parse(['--sip-max-held-bytes', '4 lots'])).toThrow(new ConfigError('--sip-max-held-bytes must be a number of bytes, such as 4194304, 4096K, 4M or 1G, not "4 lots".'));
  });

  it('read and print sizes in binary multiples', () => {
    expect(parseBytes('4194304')).toBe(4 * 1024 * 1024);
    expect(parseBytes('4m')).toBe(4 * 1024 * 1024);
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('-1')).toBeUndefined();
    expect(formatBytes(256 * 1024 * 1024)).toBe('256M');
    expect(formatBytes(1536 * 1024)).toBe('1536K');
    expect(formatBytes(1000)).toBe('1000');
  });

  it('each have a flag and an environment variable of their own', () => {
    const flags = Object.values(SETTINGS).map((s) => s.flag);
    const envs = Object.values(SETTINGS).map((s) => s.env);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
  });
});

describe('guessing, heartbeat and sign-in settings', () => {
  it('have the security layer\'s defaults unless told otherwise', () => {
    expect(parse([])).toMatchObject({
      sipRequestsPerSecond: 50,
      sipRequestBurst: 200,
      authFailuresBeforeBan: 10,
      authSprayAccountsBeforeBan: 5,
      authBanS: 600,
      accountFreeFailures: 5,
      accountDelayMaxS: 600,
      heartbeatS: 5,
      listOrganizationsAtSignIn: false,
    });
  });

  it('come from the flag, else the environment, and a switch from either', () => {
    const config = parse(['--auth-failures-before-ban', '3', '--auth-ban=60', '--list-organizations-at-sign-in'], { OFFHOOK_ACCOUNT_FREE_FAILURES: '8', OFFHOOK_HEARTBEAT: '2', OFFHOOK_SIP_REQUEST_BURST: '400' });
    expect(config).toMatchObject({ authFailuresBeforeBan: 3, authBanS: 60, listOrganizationsAtSignIn: true, accountFreeFailures: 8, heartbeatS: 2, sipRequestBurst: 400 });
    expect(parse([], { OFFHOOK_LIST_ORGANIZATIONS_AT_SIGN_IN: '1' }).listOrganizationsAtSignIn).toBe(true);
  });

  it('refuse what is not a count or a duration, with a sentence naming the flag', () => {
    expect(() => parse(['--auth-spray-accounts-before-ban', '0'])).toThrow(new ConfigError('--auth-spray-accounts-before-ban must be a whole number from 1 to 10000000, not "0".'));
    expect(() => parse(['--heartbeat', 'often'])).toThrow(new ConfigError('--heartbeat must be a number of seconds above 0, up to 86400, not "often".'));
  });
});

describe('transcription settings', () => {
  it('leave the mode to the PBX unless told, and pick hosted when a service URL is given', () => {
    expect(parse([])).toMatchObject({ transcription: undefined, transcriptionUrl: undefined, transcriptionKey: undefined });
    expect(parse(['--transcription', 'off']).transcription).toBe('off');
    expect(parse([], { OFFHOOK_TRANSCRIPTION: 'local' }).transcription).toBe('local');
    const hosted = parse([], { OFFHOOK_TRANSCRIPTION_URL: 'https://stt.example/v1', OFFHOOK_TRANSCRIPTION_KEY: 'k' });
    expect(hosted).toMatchObject({ transcription: 'hosted', transcriptionUrl: 'https://stt.example/v1', transcriptionKey: 'k' });
    expect(parse(['--transcription', 'local', '--transcription-url', 'http://127.0.0.1:9000/', '--transcription-key', 'k']).transcription).toBe('local');
  });

  it('refuse an unknown mode, a URL that is not http(s), and hosted without its URL and key', () => {
    expect(() => parse(['--transcription', 'cloud'])).toThrow('--transcription must be off, local or hosted, not "cloud".');
    expect(() => parse(['--transcription-url', 'ftp://stt.example/', '--transcription-key', 'k'])).toThrow('--transcription-url must be an http or https URL, not "ftp://stt.example/".');
    expect(() => parse(['--transcription-url', 'not a url'])).toThrow(/must be an http or https URL/);
    expect(() => parse(['--transcription', 'hosted'])).toThrow('Hosted transcription needs --transcription-url and --transcription-key (or OFFHOOK_TRANSCRIPTION_URL and OFFHOOK_TRANSCRIPTION_KEY).');
    expect(() => parse(['--transcription-url', 'https://stt.example/v1'])).toThrow(/needs --transcription-url and --transcription-key/);
  });
});

describe('voicemail limits', () => {
  it('default to 3 minutes and 100 messages, and come from the flags or the environment', () => {
    expect(parse([])).toMatchObject({ voicemailMaxSeconds: 180, voicemailMaxMessages: 100 });
    expect(parse(['--voicemail-max-seconds', '60', '--voicemail-max-messages', '5'])).toMatchObject({ voicemailMaxSeconds: 60, voicemailMaxMessages: 5 });
    expect(parse([], { OFFHOOK_VOICEMAIL_MAX_SECONDS: '300' }).voicemailMaxSeconds).toBe(300);
  });

  it('refuse what is not a sensible length or count, with a sentence naming the flag', () => {
    expect(() => parse(['--voicemail-max-seconds', '2'])).toThrow(new ConfigError('--voicemail-max-seconds must be a whole number of seconds from 5 to 600, not "2".'));
    // The player plays up to ten minutes: a longer message could not be listened to at *97.
    expect(() => parse(['--voicemail-max-seconds', '601'])).toThrow(new ConfigError('--voicemail-max-seconds must be a whole number of seconds from 5 to 600, not "601".'));
    expect(parse(['--voicemail-max-seconds', '600'])).toMatchObject({ voicemailMaxSeconds: 600 });
    expect(() => parse(['--voicemail-max-seconds', 'long'])).toThrow(ConfigError);
    expect(() => parse(['--voicemail-max-messages', '0'])).toThrow(ConfigError);
  });
});
