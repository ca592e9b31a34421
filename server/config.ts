/**
 * Settings of `offhook-pbx serve`: each from a flag, else an environment variable, else a default.
 * All of them are printed at start so a person can see what the server is doing.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_HTTP_LIMITS } from './api/connection-limits';
import { DEFAULT_ATTEMPT_LIMITS } from './auth/attempt-limiter';
import { DEFAULT_SECURITY_OPTIONS } from './sip/edge/security';
import { DEFAULT_HEARTBEAT_S } from './store/heartbeat';
import { MAX_SOUND_SECONDS } from './media/player';
import { DEFAULT_OPEN_FILES_RESERVE } from './open-file-limit';
import { DEFAULT_HELD_BYTES_LIMITS } from './sip/transport/held-bytes';
import { DEFAULT_STREAM_QUOTA, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from './sip/transport/stream-transport';

export interface ServeConfig {
  httpPort: number;
  bind: string;
  dataDir: string;
  /** Address media sockets bind to and announce in SDP. */
  mediaAddress: string;
  mediaPortRange?: [number, number];
  /** Host name or address the PBX puts in its SIP headers. */
  sipHost: string;
  demo: boolean;
  webRoot: string;
  /** SIP over UDP, TCP and TLS ports: 0 picks a free port, undefined turns that transport off. */
  sipUdpPort?: number;
  sipTcpPort?: number;
  sipTlsPort?: number;
  /** PEM files for SIP over TLS; without them TLS runs only in the demo, with a self-signed pair. */
  tlsCert?: string;
  tlsKey?: string;
  /** HTTPS port (web phone, API, SIP over secure WebSocket); undefined turns it off. Uses the TLS certificate. */
  httpsPort?: number;
  /**
   * Source addresses the SIP security layer never rate-limits nor bans: an edge proxy in front of the PBX,
   * or the load generator of a benchmark. None when omitted.
   */
  sipTrustedSources?: string[];
  /**
   * Seconds a plain RTP device in a call may send no media (RTP or RTCP) while it should be sending before
   * the call is hung up as if it had sent BYE; 0 turns the watch off, left out means the default.
   */
  mediaTimeoutS?: number;
  /**
   * Resource limits (resource-limits.ts says how they combine); a limit left out has its default. SIP TCP and
   * TLS connections at once, counted from the TCP accept, in all (lowered to what the open-file limit leaves
   * after `openFilesReserve`) and per source address.
   */
  sipMaxConnections?: number;
  sipMaxConnectionsPerAddress?: number;
  /** Seconds a SIP over TLS or HTTPS connection has to finish its handshake. */
  tlsHandshakeTimeoutS?: number;
  /** Bytes of requests the SIP endpoint holds (held-bytes.ts), in all and for one source address. */
  sipMaxHeldBytes?: number;
  sipMaxHeldBytesPerAddress?: number;
  /** HTTP and HTTPS connections at once (WebSockets included), in all and per source address. */
  httpMaxConnections?: number;
  httpMaxConnectionsPerAddress?: number;
  /** Seconds to receive a whole HTTP request, and that an HTTP connection may stay idle. */
  httpRequestTimeoutS?: number;
  httpIdleTimeoutS?: number;
  /** File descriptors kept out of the SIP connection cap, for HTTP, UDP, the database and media. */
  openFilesReserve?: number;
  /** SIP requests one source address may sustain per second, and send at once before that rate applies (security.ts). */
  sipRequestsPerSecond?: number;
  sipRequestBurst?: number;
  /**
   * Guessing (auth/attempt-limiter.ts): failed authentications of one address at one account before that pair
   * is banned; different accounts one address may fail at before the whole address is; how long a ban lasts.
   */
  authFailuresBeforeBan?: number;
  authSprayAccountsBeforeBan?: number;
  authBanS?: number;
  /** Failures an account may have, from anywhere, before each further attempt waits (doubling), and the longest wait. */
  accountFreeFailures?: number;
  accountDelayMaxS?: number;
  /** Seconds between heartbeats: a call cut off by a crash is recorded as ended at the last one (store/heartbeat.ts). */
  heartbeatS?: number;
  /** A sign-in that names no organization, on a PBX with several, is answered with their names (sign-in-organization.ts). */
  listOrganizationsAtSignIn?: boolean;
  /**
   * Voicemail transcription (features/transcription): the offline engine, a hosted service, or none. Left out:
   * hosted when a service URL is given, else local when pocketsphinx and its model are installed, else off.
   */
  transcription?: TranscriptionMode;
  /** The hosted speech-to-text service: where audio is POSTed, and the bearer key it is sent with. */
  transcriptionUrl?: string;
  transcriptionKey?: string;
  /** The longest voicemail message, in seconds; the caller is hung up when it is reached. Left out: 180. */
  voicemailMaxSeconds?: number;
  /** Messages a mailbox holds (new and saved) before callers hear "mailbox full". Left out: 100. */
  voicemailMaxMessages?: number;
}

export const DEFAULT_VOICEMAIL_MAX_SECONDS = 180;
export const DEFAULT_VOICEMAIL_MAX_MESSAGES = 100;

export const TRANSCRIPTION_MODES = ['off', 'local', 'hosted'] as const;
export type TranscriptionMode = (typeof TRANSCRIPTION_MODES)[number];

export const DEFAULT_HTTP_PORT = 8088;
export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_SIPS_PORT = 5061;
export const DEFAULT_MEDIA_TIMEOUT_S = 60;

/** The largest count a limit takes: more connections than any system has descriptors. */
const MAX_COUNT = 10_000_000;
const BYTE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

interface Setting {
  flag: string;
  env: string;
  help: string;
}

export const SETTINGS: Record<Exclude<keyof ServeConfig, 'mediaPortRange'> | 'mediaPorts', Setting> = {
  httpPort: { flag: '--http-port', env: 'OFFHOOK_HTTP_PORT', help: `HTTP port for the web phone, /api/v1 and SIP over WebSocket at /sip (default ${DEFAULT_HTTP_PORT}; 0 picks a free port)` },
  bind: { flag: '--bind', env: 'OFFHOOK_BIND', help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)' },
  dataDir: { flag: '--data-dir', env: 'OFFHOOK_DATA_DIR', help: 'folder for the database and audio files (default ./.offhook-data)' },
  mediaAddress: { flag: '--media-address', env: 'OFFHOOK_MEDIA_ADDRESS', help: 'address for RTP media (default: the bind address, or the first LAN address when binding to all)' },
  mediaPorts: { flag: '--media-ports', env: 'OFFHOOK_MEDIA_PORTS', help: 'UDP port range for media, e.g. 20000-29999 (default: any free port)' },
  sipHost: { flag: '--sip-host', env: 'OFFHOOK_SIP_HOST', help: 'host name used in SIP headers (default: the media address)' },
  demo: { flag: '--demo', env: 'OFFHOOK_DEMO', help: 'seed the demo organization and its users (see README)' },
  webRoot: { flag: '--web-root', env: 'OFFHOOK_WEB_ROOT', help: 'folder of the built web phone (default dist/renderer)' },
  sipUdpPort: { flag: '--sip-udp-port', env: 'OFFHOOK_SIP_UDP_PORT', help: `SIP over UDP port (default ${DEFAULT_SIP_PORT}; 0 picks a free port; off or -1 turns it off)` },
  sipTcpPort: { flag: '--sip-tcp-port', env: 'OFFHOOK_SIP_TCP_PORT', help: `SIP over TCP port (default ${DEFAULT_SIP_PORT}; 0 picks a free port; off or -1 turns it off)` },
  sipTlsPort: { flag: '--sip-tls-port', env: 'OFFHOOK_SIP_TLS_PORT', help: `SIP over TLS port (default ${DEFAULT_SIPS_PORT}; 0 picks a free port; off or -1 turns it off; needs --tls-cert and --tls-key, except with --demo)` },
  tlsCert: { flag: '--tls-cert', env: 'OFFHOOK_TLS_CERT', help: 'PEM certificate (chain) for SIP over TLS and HTTPS' },
  httpsPort: { flag: '--https-port', env: 'OFFHOOK_HTTPS_PORT', help: 'HTTPS port for the web phone, /api/v1 and SIP over secure WebSocket (WSS) at /sip (default off; 0 picks a free port; needs --tls-cert and --tls-key, except with --demo)' },
  tlsKey: { flag: '--tls-key', env: 'OFFHOOK_TLS_KEY', help: 'PEM private key for SIP over TLS' },
  mediaTimeoutS: { flag: '--media-timeout', env: 'OFFHOOK_MEDIA_TIMEOUT', help: `seconds a desk phone in a call may send no RTP or RTCP before the call is hung up (default ${DEFAULT_MEDIA_TIMEOUT_S}; 0 turns it off)` },
  sipTrustedSources: { flag: '--sip-trusted-sources', env: 'OFFHOOK_SIP_TRUSTED_SOURCES', help: 'comma-separated source addresses never rate-limited nor banned, e.g. an edge proxy (default: none)' },
  sipMaxConnections: {
    flag: '--sip-max-connections',
    env: 'OFFHOOK_SIP_MAX_CONNECTIONS',
    help: `SIP TCP and TLS connections at once, counted from the TCP accept (default ${DEFAULT_STREAM_QUOTA.max}; lowered to the open-file limit less --open-files-reserve)`,
  },
  sipMaxConnectionsPerAddress: {
    flag: '--sip-max-connections-per-address',
    env: 'OFFHOOK_SIP_MAX_CONNECTIONS_PER_ADDRESS',
    help: `SIP TCP and TLS connections at once from one address (default ${DEFAULT_STREAM_QUOTA.maxPerAddress})`,
  },
  tlsHandshakeTimeoutS: {
    flag: '--tls-handshake-timeout',
    env: 'OFFHOOK_TLS_HANDSHAKE_TIMEOUT',
    help: `seconds a SIP over TLS or HTTPS connection has to finish its handshake (default ${DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS / 1000})`,
  },
  sipMaxHeldBytes: {
    flag: '--sip-max-held-bytes',
    env: 'OFFHOOK_SIP_MAX_HELD_BYTES',
    help: `bytes of SIP requests held at once, pending or partly received; beyond it requests get 503 (default ${formatBytes(DEFAULT_HELD_BYTES_LIMITS.maxBytes)}; K, M, G suffixes)`,
  },
  sipMaxHeldBytesPerAddress: {
    flag: '--sip-max-held-bytes-per-address',
    env: 'OFFHOOK_SIP_MAX_HELD_BYTES_PER_ADDRESS',
    help: `the same for one source address; trusted sources have only the total (default ${formatBytes(DEFAULT_HELD_BYTES_LIMITS.maxBytesPerSource)})`,
  },
  httpMaxConnections: {
    flag: '--http-max-connections',
    env: 'OFFHOOK_HTTP_MAX_CONNECTIONS',
    help: `HTTP and HTTPS connections at once, WebSockets included (default ${DEFAULT_HTTP_LIMITS.maxConnections}; lowered to what the open-file limit leaves)`,
  },
  httpMaxConnectionsPerAddress: {
    flag: '--http-max-connections-per-address',
    env: 'OFFHOOK_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    help: `HTTP and HTTPS connections at once from one address (default ${DEFAULT_HTTP_LIMITS.maxConnectionsPerAddress})`,
  },
  httpRequestTimeoutS: {
    flag: '--http-request-timeout',
    env: 'OFFHOOK_HTTP_REQUEST_TIMEOUT',
    help: `seconds to receive a whole HTTP request, headers and body (default ${DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000})`,
  },
  httpIdleTimeoutS: {
    flag: '--http-idle-timeout',
    env: 'OFFHOOK_HTTP_IDLE_TIMEOUT',
    help: `seconds an HTTP connection may go without a byte before it is closed (default ${DEFAULT_HTTP_LIMITS.idleTimeoutMs / 1000})`,
  },
  openFilesReserve: {
    flag: '--open-files-reserve',
    env: 'OFFHOOK_OPEN_FILES_RESERVE',
    help: `file descriptors kept out of the SIP connection cap, for HTTP, UDP, the database and media (default ${DEFAULT_OPEN_FILES_RESERVE})`,
  },
  sipRequestsPerSecond: {
    flag: '--sip-requests-per-second',
    env: 'OFFHOOK_SIP_REQUESTS_PER_SECOND',
    help: `SIP requests one address may sustain per second; beyond it they are dropped (default ${DEFAULT_SECURITY_OPTIONS.requestsPerSecond})`,
  },
  sipRequestBurst: {
    flag: '--sip-request-burst',
    env: 'OFFHOOK_SIP_REQUEST_BURST',
    help: `SIP requests one address may send at once before that rate applies (default ${DEFAULT_SECURITY_OPTIONS.requestBurst})`,
  },
  authFailuresBeforeBan: {
    flag: '--auth-failures-before-ban',
    env: 'OFFHOOK_AUTH_FAILURES_BEFORE_BAN',
    help: `failed authentications of one address at one account within ${DEFAULT_ATTEMPT_LIMITS.authFailureWindowMs / 1000} s before that address is banned for that account (default ${DEFAULT_ATTEMPT_LIMITS.authFailuresBeforeBan})`,
  },
  authSprayAccountsBeforeBan: {
    flag: '--auth-spray-accounts-before-ban',
    env: 'OFFHOOK_AUTH_SPRAY_ACCOUNTS_BEFORE_BAN',
    help: `different accounts one address may fail at within ${DEFAULT_ATTEMPT_LIMITS.authFailureWindowMs / 1000} s before the whole address is banned; its registered devices and calls go on (default ${DEFAULT_ATTEMPT_LIMITS.sprayAccountsBeforeBan})`,
  },
  authBanS: { flag: '--auth-ban', env: 'OFFHOOK_AUTH_BAN', help: `seconds a ban lasts (default ${DEFAULT_ATTEMPT_LIMITS.banMs / 1000})` },
  accountFreeFailures: {
    flag: '--account-free-failures',
    env: 'OFFHOOK_ACCOUNT_FREE_FAILURES',
    help: `failed sign-ins or authentications of one account, from any address, before each further attempt waits ${DEFAULT_ATTEMPT_LIMITS.accountDelayBaseMs / 1000} s, doubling; its known devices are not held (default ${DEFAULT_ATTEMPT_LIMITS.accountFreeFailures})`,
  },
  accountDelayMaxS: { flag: '--account-delay-max', env: 'OFFHOOK_ACCOUNT_DELAY_MAX', help: `the longest such wait, in seconds (default ${DEFAULT_ATTEMPT_LIMITS.accountDelayMaxMs / 1000})` },
  heartbeatS: {
    flag: '--heartbeat',
    env: 'OFFHOOK_HEARTBEAT',
    help: `seconds between heartbeats; calls cut off by a crash are recorded as ended at the last one (default ${DEFAULT_HEARTBEAT_S})`,
  },
  listOrganizationsAtSignIn: {
    flag: '--list-organizations-at-sign-in',
    env: 'OFFHOOK_LIST_ORGANIZATIONS_AT_SIGN_IN',
    help: 'on a PBX with several organizations, offer their names at sign-in when the user gives only an extension (default off: the user is asked for their SIP address)',
  },
  transcription: {
    flag: '--transcription',
    env: 'OFFHOOK_TRANSCRIPTION',
    help: 'voicemail transcription: off, local (pocketsphinx, wideband messages only) or hosted (the service at --transcription-url) (default: hosted when a URL is given, else local when pocketsphinx and its English model are installed, else off)',
  },
  transcriptionUrl: { flag: '--transcription-url', env: 'OFFHOOK_TRANSCRIPTION_URL', help: 'http(s) URL of a hosted speech-to-text service: it is POSTed a WAV and answers JSON {"text": "..."}' },
  voicemailMaxSeconds: { flag: '--voicemail-max-seconds', env: 'OFFHOOK_VOICEMAIL_MAX_SECONDS', help: `longest voicemail message in seconds, 5 to ${MAX_SOUND_SECONDS} (default ${DEFAULT_VOICEMAIL_MAX_SECONDS})` },
  voicemailMaxMessages: { flag: '--voicemail-max-messages', env: 'OFFHOOK_VOICEMAIL_MAX_MESSAGES', help: `messages a mailbox holds before callers hear "mailbox full" (default ${DEFAULT_VOICEMAIL_MAX_MESSAGES})` },
  transcriptionKey: { flag: '--transcription-key', env: 'OFFHOOK_TRANSCRIPTION_KEY', help: 'key sent to that service as "Authorization: Bearer <key>" (prefer the environment variable: a flag shows in the process list)' },
};

export class ConfigError extends Error {}

export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv, defaults: { webRoot: string }): ServeConfig {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new ConfigError(`Unexpected argument "${arg}".`);
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    const known = Object.values(SETTINGS).some((s) => s.flag === name);
    if (!known) throw new ConfigError(`Unknown option ${name}. Run "offhook-pbx help" for the list.`);
    if (name === SETTINGS.demo.flag || name === SETTINGS.listOrganizationsAtSignIn.flag) {
      flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new ConfigError(`${name} needs a value.`);
    flags.set(name, value);
  }
  const pick = (setting: Setting): string | undefined => {
    const flag = flags.get(setting.flag);
    if (typeof flag === 'string') return flag;
    const fromEnv = env[setting.env];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };

  const portText = pick(SETTINGS.httpPort) ?? `${DEFAULT_HTTP_PORT}`;
  const httpPort = Number(portText);
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
    throw new ConfigError(`${SETTINGS.httpPort.flag} must be a port number from 0 to 65535, not "${portText}".`);
  }
  const bind = pick(SETTINGS.bind) ?? '127.0.0.1';
  const mediaAddress = pick(SETTINGS.mediaAddress) ?? (bind === '0.0.0.0' || bind === '::' ? firstLanAddress() : bind);
  const portsText = pick(SETTINGS.mediaPorts);
  let mediaPortRange: [number, number] | undefined;
  if (portsText) {
    const match = /^(\d+)-(\d+)$/.exec(portsText);
    const low = Number(match?.[1]);
    const high = Number(match?.[2]);
    if (!match || low < 1024 || high > 65535 || low >= high) {
      throw new ConfigError(`${SETTINGS.mediaPorts.flag} must look like 20000-29999, not "${portsText}".`);
    }
    mediaPortRange = [low, high];
  }
  const sipPort = (setting: Setting, fallback: number): number | undefined => {
    const text = pick(setting) ?? `${fallback}`;
    if (text === 'off' || text === '-1') return undefined;
    const port = Number(text);
    if (!/^\d+$/.test(text) || port > 65535) throw new ConfigError(`${setting.flag} must be a port number from 0 to 65535, or off, not "${text}".`);
    return port;
  };
  const tlsCert = pick(SETTINGS.tlsCert);
  const tlsKey = pick(SETTINGS.tlsKey);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError(`${SETTINGS.tlsCert.flag} and ${SETTINGS.tlsKey.flag} go together.`);
  const sipTrustedSources = (pick(SETTINGS.sipTrustedSources) ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  // The security layer compares a flow's remote address as text, so a host name or a range would never match.
  const notAddress = sipTrustedSources.find((address) => isIP(address) === 0);
  if (notAddress !== undefined) throw new ConfigError(`${SETTINGS.sipTrustedSources.flag} takes IP addresses separated by commas, not "${notAddress}".`);
  const timeoutText = pick(SETTINGS.mediaTimeoutS) ?? `${DEFAULT_MEDIA_TIMEOUT_S}`;
  const mediaTimeoutS = Number(timeoutText);
  if (!/^\d+(\.\d+)?$/.test(timeoutText) || mediaTimeoutS > 86_400) {
    throw new ConfigError(`${SETTINGS.mediaTimeoutS.flag} must be a number of seconds from 0 to 86400, not "${timeoutText}".`);
  }
  const voicemailText = pick(SETTINGS.voicemailMaxSeconds) ?? `${DEFAULT_VOICEMAIL_MAX_SECONDS}`;
  const voicemailMaxSeconds = Number(voicemailText);
  // No longer than the player plays (media/player/sound.ts), or a message could not be listened to at *97.
  if (!/^\d+$/.test(voicemailText) || voicemailMaxSeconds < 5 || voicemailMaxSeconds > MAX_SOUND_SECONDS) {
    throw new ConfigError(`${SETTINGS.voicemailMaxSeconds.flag} must be a whole number of seconds from 5 to ${MAX_SOUND_SECONDS}, not "${voicemailText}".`);
  }
  const count = (setting: Setting, fallback: number, min: number): number => {
    const text = pick(setting) ?? `${fallback}`;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > MAX_COUNT) throw new ConfigError(`${setting.flag} must be a whole number from ${min} to ${MAX_COUNT}, not "${text}".`);
    return value;
  };
  const seconds = (setting: Setting, fallbackMs: number): number => {
    const text = pick(setting) ?? `${fallbackMs / 1000}`;
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || value <= 0 || value > 86_400) throw new ConfigError(`${setting.flag} must be a number of seconds above 0, up to 86400, not "${text}".`);
    return value;
  };
  const bytes = (setting: Setting, fallback: number): number => {
    const text = pick(setting);
    if (text === undefined) return fallback;
    const value = parseBytes(text);
    if (value === undefined) throw new ConfigError(`${setting.flag} must be a number of bytes, such as 4194304, 4096K, 4M or 1G, not "${text}".`);
    return value;
  };
  const transcription = transcriptionSettings(pick(SETTINGS.transcription), pick(SETTINGS.transcriptionUrl), pick(SETTINGS.transcriptionKey));
  const demoFlag = flags.get(SETTINGS.demo.flag) === true;
  const demoEnv = env[SETTINGS.demo.env];
  const switchedOn = (setting: Setting): boolean => flags.get(setting.flag) === true || env[setting.env] === '1' || env[setting.env] === 'true';
  return {
    httpPort,
    bind,
    dataDir: resolve(pick(SETTINGS.dataDir) ?? '.offhook-data'),
    mediaAddress,
    mediaPortRange,
    sipHost: pick(SETTINGS.sipHost) ?? mediaAddress,
    demo: demoFlag || demoEnv === '1' || demoEnv === 'true',
    webRoot: resolve(pick(SETTINGS.webRoot) ?? defaults.webRoot),
    sipUdpPort: sipPort(SETTINGS.sipUdpPort, DEFAULT_SIP_PORT),
    sipTcpPort: sipPort(SETTINGS.sipTcpPort, DEFAULT_SIP_PORT),
    sipTlsPort: sipPort(SETTINGS.sipTlsPort, DEFAULT_SIPS_PORT),
    tlsCert: tlsCert === undefined ? undefined : resolve(tlsCert),
    tlsKey: tlsKey === undefined ? undefined : resolve(tlsKey),
    httpsPort: sipPort(SETTINGS.httpsPort, -1),
    sipTrustedSources,
    mediaTimeoutS,
    sipMaxConnections: count(SETTINGS.sipMaxConnections, DEFAULT_STREAM_QUOTA.max, 1),
    sipMaxConnectionsPerAddress: count(SETTINGS.sipMaxConnectionsPerAddress, DEFAULT_STREAM_QUOTA.maxPerAddress, 1),
    tlsHandshakeTimeoutS: seconds(SETTINGS.tlsHandshakeTimeoutS, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS),
    sipMaxHeldBytes: bytes(SETTINGS.sipMaxHeldBytes, DEFAULT_HELD_BYTES_LIMITS.maxBytes),
    sipMaxHeldBytesPerAddress: bytes(SETTINGS.sipMaxHeldBytesPerAddress, DEFAULT_HELD_BYTES_LIMITS.maxBytesPerSource),
    httpMaxConnections: count(SETTINGS.httpMaxConnections, DEFAULT_HTTP_LIMITS.maxConnections, 1),
    httpMaxConnectionsPerAddress: count(SETTINGS.httpMaxConnectionsPerAddress, DEFAULT_HTTP_LIMITS.maxConnectionsPerAddress, 1),
    httpRequestTimeoutS: seconds(SETTINGS.httpRequestTimeoutS, DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    httpIdleTimeoutS: seconds(SETTINGS.httpIdleTimeoutS, DEFAULT_HTTP_LIMITS.idleTimeoutMs),
    openFilesReserve: count(SETTINGS.openFilesReserve, DEFAULT_OPEN_FILES_RESERVE, 0),
    sipRequestsPerSecond: count(SETTINGS.sipRequestsPerSecond, DEFAULT_SECURITY_OPTIONS.requestsPerSecond, 1),
    sipRequestBurst: count(SETTINGS.sipRequestBurst, DEFAULT_SECURITY_OPTIONS.requestBurst, 1),
    authFailuresBeforeBan: count(SETTINGS.authFailuresBeforeBan, DEFAULT_ATTEMPT_LIMITS.authFailuresBeforeBan, 1),
    authSprayAccountsBeforeBan: count(SETTINGS.authSprayAccountsBeforeBan, DEFAULT_ATTEMPT_LIMITS.sprayAccountsBeforeBan, 1),
    authBanS: seconds(SETTINGS.authBanS, DEFAULT_ATTEMPT_LIMITS.banMs),
    accountFreeFailures: count(SETTINGS.accountFreeFailures, DEFAULT_ATTEMPT_LIMITS.accountFreeFailures, 1),
    accountDelayMaxS: seconds(SETTINGS.accountDelayMaxS, DEFAULT_ATTEMPT_LIMITS.accountDelayMaxMs),
    heartbeatS: seconds(SETTINGS.heartbeatS, DEFAULT_HEARTBEAT_S * 1000),
    listOrganizationsAtSignIn: switchedOn(SETTINGS.listOrganizationsAtSignIn),
    ...transcription,
    voicemailMaxSeconds,
    voicemailMaxMessages: count(SETTINGS.voicemailMaxMessages, DEFAULT_VOICEMAIL_MAX_MESSAGES, 1),
  };
}

function transcriptionSettings(mode: string | undefined, url: string | undefined, key: string | undefined): Pick<ServeConfig, 'transcription' | 'transcriptionUrl' | 'transcriptionKey'> {
  if (mode !== undefined && !(TRANSCRIPTION_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`${SETTINGS.transcription.flag} must be off, local or hosted, not "${mode}".`);
  }
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ConfigError(`${SETTINGS.transcriptionUrl.flag} must be an http or https URL, not "${url}".`);
    }
  }
  const chosen = mode === undefined && url !== undefined ? 'hosted' : (mode as TranscriptionMode | undefined);
  if (chosen === 'hosted' && (url === undefined || key === undefined)) {
    throw new ConfigError(`Hosted transcription needs ${SETTINGS.transcriptionUrl.flag} and ${SETTINGS.transcriptionKey.flag} (or ${SETTINGS.transcriptionUrl.env} and ${SETTINGS.transcriptionKey.env}).`);
  }
  return { transcription: chosen, transcriptionUrl: url, transcriptionKey: key };
}

/** "4194304", "4096K", "4M", "1G" (binary multiples, as memory is counted); undefined for anything else. */
export function parseBytes(text: string): number | undefined {
  const match = /^(\d+)([KMG]?)i?B?$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (BYTE_UNITS[(match[2] ?? '').toUpperCase()] ?? 1);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A byte count the way parseBytes reads it back: 4M, 256M, 1536K. */
export function formatBytes(value: number): string {
  for (const unit of ['G', 'M', 'K']) {
    const size = BYTE_UNITS[unit] ?? 1;
    if (value >= size && value % size === 0) return `${value / size}${unit}`;
  }
  return `${value}`;
}

function firstLanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}
