/**
 * The soak's settings: each a named default that an environment variable overrides, all printed at the start
 * of a run so that its table can be read with what produced it. Rates are totals across the sources of a
 * kind; each source stays well inside the PBX's per-address request allowance (50/s), so what is measured
 * is what traffic within the limits does to the PBX, not the rate limiter.
 */

/** What the soak sends; BENCH_SOAK_KINDS picks some of them (all by default). */
export const TRAFFIC_KINDS = ['calls', 'registrations', 'messages', 'malformed', 'killers', 'idle', 'guessing', 'large'] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

export interface SoakOptions {
  /** How long traffic runs; the drain and the report come after. */
  seconds: number;
  /** Pairs of UDP desk phones calling each other, one call at a time per pair, each phone on its own address. */
  callPairs: number;
  /** How long an answered call is held with media flowing, drawn evenly from this range. */
  holdSeconds: [number, number];
  /** Users registered over TCP, and as many over WebSocket, refreshing their registrations and receiving messages. */
  streamUsers: number;
  /** Expires asked for in every legitimate REGISTER; each is refreshed at half of it. */
  registerExpiresS: number;
  messagesPerSecond: number;
  malformedPerSecond: number;
  malformedSources: number;
  /** One known killer (a top Via naming port 0 without rport) every so many seconds. */
  killerEverySeconds: number;
  /** Connections held open and silent: TCP to the SIP port, TLS that never sends a ClientHello, WebSocket. */
  idleTcp: number;
  idleTls: number;
  idleWs: number;
  idleSources: number;
  /** REGISTERs with a wrong password, spread over many addresses so that none reaches a per-address ban. */
  guessesPerSecond: number;
  guessSources: number;
  largePerSecond: number;
  largeSources: number;
  largeBytes: number;
  /** How often the PBX's memory is read after a forced full garbage collection. */
  sampleSeconds: number;
  /**
   * Quiet time after the traffic before the final reading: longer than 64·T1 (32 s, transactions) and the
   * idle time of a UDP flow nothing depends on (60 s), so what the traffic held should be gone by then.
   */
  drainSeconds: number;
  /**
   * Budgets the run is judged by: peak heap in use plus external memory after a GC (0: derived from the PBX's
   * own budget, see heapBudgetMb), peak RSS, and growth over idle at the end.
   */
  heapBudgetMb: number;
  rssBudgetMb: number;
  leakAllowanceMb: number;
  kinds: ReadonlySet<TrafficKind>;
}

/**
 * With BENCH_SOAK_HEAP_BUDGET_MB at 0, the heap budget follows the PBX's own: the request bytes it may hold in
 * all (--sip-max-held-bytes, printed at start) plus this much for everything else (the idle PBX, calls,
 * registrations, flows), or a fixed budget when the PBX prints none.
 */
export const HEAP_ALLOWANCE_MB = 128;
export const HEAP_BUDGET_FALLBACK_MB = 256;

interface Setting {
  key: Exclude<keyof SoakOptions, 'kinds' | 'holdSeconds'>;
  env: string;
  fallback: number;
  help: string;
}

const SETTINGS: readonly Setting[] = [
  { key: 'seconds', env: 'BENCH_SOAK_SECONDS', fallback: 600, help: 'seconds of traffic' },
  { key: 'callPairs', env: 'BENCH_SOAK_CALL_PAIRS', fallback: 8, help: 'pairs of UDP desk phones calling each other' },
  { key: 'streamUsers', env: 'BENCH_SOAK_STREAM_USERS', fallback: 6, help: 'users registered over TCP, and as many over WebSocket' },
  { key: 'registerExpiresS', env: 'BENCH_SOAK_EXPIRES', fallback: 60, help: 'Expires of legitimate registrations (refreshed at half)' },
  { key: 'messagesPerSecond', env: 'BENCH_SOAK_MESSAGES_PER_SECOND', fallback: 2, help: 'MESSAGE between users per second' },
  { key: 'malformedPerSecond', env: 'BENCH_SOAK_MALFORMED_PER_SECOND', fallback: 100, help: 'malformed packets per second' },
  { key: 'malformedSources', env: 'BENCH_SOAK_MALFORMED_SOURCES', fallback: 32, help: 'addresses they come from' },
  { key: 'killerEverySeconds', env: 'BENCH_SOAK_KILLER_EVERY_SECONDS', fallback: 30, help: 'seconds between known killers (Via port 0, no rport)' },
  { key: 'idleTcp', env: 'BENCH_SOAK_IDLE_TCP', fallback: 100, help: 'silent TCP connections held open' },
  { key: 'idleTls', env: 'BENCH_SOAK_IDLE_TLS', fallback: 100, help: 'TLS connections that never send a ClientHello' },
  { key: 'idleWs', env: 'BENCH_SOAK_IDLE_WS', fallback: 50, help: 'WebSockets opened and left idle' },
  { key: 'idleSources', env: 'BENCH_SOAK_IDLE_SOURCES', fallback: 50, help: 'addresses the idle connections come from' },
  { key: 'guessesPerSecond', env: 'BENCH_SOAK_GUESSES_PER_SECOND', fallback: 10, help: 'wrong-password REGISTERs per second' },
  { key: 'guessSources', env: 'BENCH_SOAK_GUESS_SOURCES', fallback: 200, help: 'addresses they come from' },
  { key: 'largePerSecond', env: 'BENCH_SOAK_LARGE_PER_SECOND', fallback: 40, help: 'large requests per second (UDP and TCP)' },
  { key: 'largeSources', env: 'BENCH_SOAK_LARGE_SOURCES', fallback: 40, help: 'addresses they come from' },
  { key: 'largeBytes', env: 'BENCH_SOAK_LARGE_BYTES', fallback: 60_000, help: 'size of each large request' },
  { key: 'sampleSeconds', env: 'BENCH_SOAK_SAMPLE_SECONDS', fallback: 10, help: 'seconds between memory readings after a full GC' },
  { key: 'drainSeconds', env: 'BENCH_SOAK_DRAIN_SECONDS', fallback: 75, help: 'quiet seconds after the traffic before the final reading' },
  { key: 'heapBudgetMb', env: 'BENCH_SOAK_HEAP_BUDGET_MB', fallback: 0, help: `budget for peak heap used + external after a GC (0: the PBX's held-bytes budget + ${HEAP_ALLOWANCE_MB}, else ${HEAP_BUDGET_FALLBACK_MB})` },
  { key: 'rssBudgetMb', env: 'BENCH_SOAK_RSS_BUDGET_MB', fallback: 1024, help: 'budget for peak RSS' },
  { key: 'leakAllowanceMb', env: 'BENCH_SOAK_LEAK_ALLOWANCE_MB', fallback: 16, help: 'heap + external allowed above idle after the drain' },
];


/** The heap budget in MB for a PBX that holds at most `heldBytes` of requests (undefined: it did not say). */
export function heapBudgetMb(options: SoakOptions, heldBytes: number | undefined): number {
  if (options.heapBudgetMb > 0) return options.heapBudgetMb;
  return heldBytes === undefined ? HEAP_BUDGET_FALLBACK_MB : Math.round(heldBytes / 1024 / 1024) + HEAP_ALLOWANCE_MB;
}

const HOLD_ENV = 'BENCH_SOAK_HOLD_SECONDS';
const HOLD_FALLBACK: [number, number] = [2, 6];
const KINDS_ENV = 'BENCH_SOAK_KINDS';

export class SoakOptionsError extends Error {}

export function soakOptions(env: NodeJS.ProcessEnv): SoakOptions {
  const numbers: Partial<Record<Setting['key'], number>> = {};
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    const value = text === undefined || text === '' ? setting.fallback : Number(text);
    if (!Number.isFinite(value) || value < 0) throw new SoakOptionsError(`${setting.env} must be a number of at least 0, not "${text}"`);
    numbers[setting.key] = value;
  }
  const holdText = env[HOLD_ENV];
  const hold = holdText ? holdText.split('-').map(Number) : HOLD_FALLBACK;
  const [low = NaN, high = low] = hold;
  if (!(low >= 0 && high >= low)) throw new SoakOptionsError(`${HOLD_ENV} must look like 2-6, not "${holdText}"`);
  const kindsText = env[KINDS_ENV];
  const kinds = kindsText ? kindsText.split(',').map((k) => k.trim()) : [...TRAFFIC_KINDS];
  const unknown = kinds.find((k) => !(TRAFFIC_KINDS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new SoakOptionsError(`${KINDS_ENV} takes some of ${TRAFFIC_KINDS.join(',')}, not "${unknown}"`);
  const pick = (key: Setting['key']) => numbers[key] ?? 0;
  return {
    seconds: pick('seconds'),
    callPairs: Math.floor(pick('callPairs')),
    holdSeconds: [low, high],
    streamUsers: Math.floor(pick('streamUsers')),
    registerExpiresS: pick('registerExpiresS'),
    messagesPerSecond: pick('messagesPerSecond'),
    malformedPerSecond: pick('malformedPerSecond'),
    malformedSources: Math.max(1, Math.floor(pick('malformedSources'))),
    killerEverySeconds: pick('killerEverySeconds'),
    idleTcp: Math.floor(pick('idleTcp')),
    idleTls: Math.floor(pick('idleTls')),
    idleWs: Math.floor(pick('idleWs')),
    idleSources: Math.max(1, Math.floor(pick('idleSources'))),
    guessesPerSecond: pick('guessesPerSecond'),
    guessSources: Math.max(1, Math.floor(pick('guessSources'))),
    largePerSecond: pick('largePerSecond'),
    largeSources: Math.max(1, Math.floor(pick('largeSources'))),
    largeBytes: Math.floor(pick('largeBytes')),
    sampleSeconds: Math.max(1, pick('sampleSeconds')),
    drainSeconds: pick('drainSeconds'),
    heapBudgetMb: pick('heapBudgetMb'),
    rssBudgetMb: pick('rssBudgetMb'),
    leakAllowanceMb: pick('leakAllowanceMb'),
    kinds: new Set(kinds as TrafficKind[]),
  };
}

/** The settings as lines to print: each value with the variable that sets it. */
export function describeOptions(options: SoakOptions): string[] {
  const lines = SETTINGS.map((s) => `  ${s.env.padEnd(34)} ${String(options[s.key]).padStart(7)}  ${s.help}`);
  lines.push(`  ${HOLD_ENV.padEnd(34)} ${options.holdSeconds.join('-').padStart(7)}  seconds an answered call is held`);
  lines.push(`  ${KINDS_ENV.padEnd(34)} ${[...options.kinds].join(',')}`);
  return lines;
}
