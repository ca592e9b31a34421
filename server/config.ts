/**
 * Settings of `offhook-pbx serve`: each from a flag, else an environment variable, else a default.
 * All of them are printed at start so a person can see what the server is doing.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';

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
}

export const DEFAULT_HTTP_PORT = 8088;
export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_SIPS_PORT = 5061;
export const DEFAULT_MEDIA_TIMEOUT_S = 60;

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
    if (name === SETTINGS.demo.flag) {
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
  const demoFlag = flags.get(SETTINGS.demo.flag) === true;
  const demoEnv = env[SETTINGS.demo.env];
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
  };
}

function firstLanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}
