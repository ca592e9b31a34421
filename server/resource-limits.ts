/**
 * The limits that keep one source (or many) from taking the PBX's memory or file descriptors, as they are
 * in force for this run: the settings (config.ts), with the connection caps lowered to what the open-file
 * limit leaves once raised (open-file-limit.ts). `startPbx` hands each to its part; `offhook-pbx serve`
 * prints them all.
 */
import { DEFAULT_HTTP_LIMITS } from './api/connection-limits';
import type { HttpLimits } from './api/connection-limits';
import { formatBytes } from './config';
import type { ServeConfig } from './config';
import { createLogger } from './log';
import { connectionCaps, DEFAULT_OPEN_FILES_RESERVE, raiseOpenFileLimit } from './open-file-limit';
import type { RaisedLimit } from './open-file-limit';
import { DEFAULT_HELD_BYTES_LIMITS } from './sip/transport/held-bytes';
import type { HeldBytesLimits } from './sip/transport/held-bytes';
import { DEFAULT_STREAM_QUOTA, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from './sip/transport/stream-transport';
import type { QuotaLimits } from './util/connection-quota';

const log = createLogger('limits');

export interface ResourceLimits {
  /** The open-file limit as found and raised at start. */
  openFiles: RaisedLimit;
  openFilesReserve: number;
  /** SIP TCP and TLS connections, in one quota. */
  sipConnections: QuotaLimits;
  /** Whether the open-file limit lowered the SIP connection cap below its setting. */
  sipConnectionsLimitedByOpenFiles: boolean;
  tlsHandshakeTimeoutMs: number;
  sipHeldBytes: HeldBytesLimits;
  http: HttpLimits;
}

/** Raises the open-file limit and works out every limit from the settings; logs what it found. */
export function resolveResourceLimits(config: ServeConfig): ResourceLimits {
  const openFiles = raiseOpenFileLimit();
  const openFilesReserve = config.openFilesReserve ?? DEFAULT_OPEN_FILES_RESERVE;
  const caps = connectionCaps(
    { streams: config.sipMaxConnections ?? DEFAULT_STREAM_QUOTA.max, http: config.httpMaxConnections ?? DEFAULT_HTTP_LIMITS.maxConnections },
    openFiles.after,
    openFilesReserve,
  );
  const tlsHandshakeTimeoutMs = config.tlsHandshakeTimeoutS === undefined ? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS : config.tlsHandshakeTimeoutS * 1000;
  const limits: ResourceLimits = {
    openFiles,
    openFilesReserve,
    sipConnections: { max: caps.streams, maxPerAddress: config.sipMaxConnectionsPerAddress ?? DEFAULT_STREAM_QUOTA.maxPerAddress },
    sipConnectionsLimitedByOpenFiles: caps.streamsLimitedByOpenFiles,
    tlsHandshakeTimeoutMs,
    sipHeldBytes: {
      maxBytes: config.sipMaxHeldBytes ?? DEFAULT_HELD_BYTES_LIMITS.maxBytes,
      maxBytesPerSource: config.sipMaxHeldBytesPerAddress ?? DEFAULT_HELD_BYTES_LIMITS.maxBytesPerSource,
    },
    http: {
      maxConnections: caps.http,
      maxConnectionsPerAddress: config.httpMaxConnectionsPerAddress ?? DEFAULT_HTTP_LIMITS.maxConnectionsPerAddress,
      requestTimeoutMs: config.httpRequestTimeoutS === undefined ? DEFAULT_HTTP_LIMITS.requestTimeoutMs : config.httpRequestTimeoutS * 1000,
      idleTimeoutMs: config.httpIdleTimeoutS === undefined ? DEFAULT_HTTP_LIMITS.idleTimeoutMs : config.httpIdleTimeoutS * 1000,
      handshakeTimeoutMs: tlsHandshakeTimeoutMs,
    },
  };
  if (caps.streamsLimitedByOpenFiles) {
    log.warn('the open-file limit lowers the SIP connection cap; raise the hard limit (LimitNOFILE, ulimit -Hn) for more', {
      openFiles: openFiles.after,
      reserve: openFilesReserve,
      sipConnections: caps.streams,
      httpConnections: caps.http,
    });
  }
  return limits;
}

/** The limits as `serve` prints them at start, one line each, aligned with its other lines. */
export function describeResourceLimits(limits: ResourceLimits): string[] {
  const { openFiles, sipConnections, sipHeldBytes, http } = limits;
  const files = openFiles.after === undefined ? 'not known on this system' : `${formatCount(openFiles.after)} (hard ${formatCount(openFiles.hard ?? openFiles.after)})`;
  return [
    `  open files     ${files}, ${limits.openFilesReserve} kept from SIP connections (--open-files-reserve)`,
    `  SIP TCP/TLS    at most ${sipConnections.max} connections${limits.sipConnectionsLimitedByOpenFiles ? ' (lowered to fit the open-file limit)' : ''}, ${sipConnections.maxPerAddress} per address; TLS handshake within ${limits.tlsHandshakeTimeoutMs / 1000} s`,
    `  SIP held bytes ${formatBytes(sipHeldBytes.maxBytes)} in all, ${formatBytes(sipHeldBytes.maxBytesPerSource)} per address, then 503`,
    `  HTTP           at most ${http.maxConnections} connections, ${http.maxConnectionsPerAddress} per address; request within ${http.requestTimeoutMs / 1000} s, idle ${http.idleTimeoutMs / 1000} s`,
  ];
}

function formatCount(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'unlimited';
}
