/**
 * What the soak counts, in one place that every traffic generator writes to and the report reads. Reasons
 * for failures are kept as counts per reason text, so a run that failed says why without a log to dig in.
 */

/** Traffic of one kind: what was sent, and what came back. */
export interface Tally {
  sent: number;
  bytes: number;
  /** Responses (or closes, for connections) the PBX sent back, by status or event. */
  outcomes: Record<string, number>;
}

export interface IdleTally {
  opened: number;
  /** Connections the PBX refused or closed within a second. */
  refused: number;
  /** Connections the PBX closed after they had been held for longer. */
  closedByPbx: number;
  /** How long those lasted, in seconds (the first few hundred, for the median). */
  lifetimesS: number[];
  failedToOpen: number;
}

export interface SoakCounters {
  traffic: Record<string, Tally>;
  calls: { attempted: number; completed: number; failed: number; reasons: Record<string, number>; mediaSent: number; mediaHeard: number };
  registrations: Record<'UDP' | 'TCP' | 'WS', { ok: number; failed: number }> & { reasons: Record<string, number> };
  messages: { sent: number; delivered: number; failed: number; reasons: Record<string, number> };
  guesses: { attempts: number; refused: number; unanswered: number; accepted: number; other: Record<string, number> };
  idle: Record<'TCP' | 'TLS' | 'WS', IdleTally>;
  /** Datagrams the PBX sent to a third party named in a forged Via (received= or maddr=). */
  reflected: { datagrams: number; bytes: number };
}

/** Caps the distinct reasons and lifetimes kept, so a long run's counters stay small. */
const MAX_REASONS = 50;
const MAX_LIFETIMES = 500;

const idleTally = (): IdleTally => ({ opened: 0, refused: 0, closedByPbx: 0, lifetimesS: [], failedToOpen: 0 });

export function newCounters(): SoakCounters {
  return {
    traffic: {},
    calls: { attempted: 0, completed: 0, failed: 0, reasons: {}, mediaSent: 0, mediaHeard: 0 },
    registrations: { UDP: { ok: 0, failed: 0 }, TCP: { ok: 0, failed: 0 }, WS: { ok: 0, failed: 0 }, reasons: {} },
    messages: { sent: 0, delivered: 0, failed: 0, reasons: {} },
    guesses: { attempts: 0, refused: 0, unanswered: 0, accepted: 0, other: {} },
    idle: { TCP: idleTally(), TLS: idleTally(), WS: idleTally() },
    reflected: { datagrams: 0, bytes: 0 },
  };
}

export function count(record: Record<string, number>, reason: string): void {
  if (reason in record || Object.keys(record).length < MAX_REASONS) record[reason] = (record[reason] ?? 0) + 1;
  else record.other = (record.other ?? 0) + 1;
}

export function sent(counters: SoakCounters, kind: string, bytes: number): Tally {
  const tally = (counters.traffic[kind] ??= { sent: 0, bytes: 0, outcomes: {} });
  tally.sent += 1;
  tally.bytes += bytes;
  return tally;
}

export function outcome(counters: SoakCounters, kind: string, what: string): void {
  count((counters.traffic[kind] ??= { sent: 0, bytes: 0, outcomes: {} }).outcomes, what);
}

export function lifetime(tally: IdleTally, seconds: number): void {
  if (tally.lifetimesS.length < MAX_LIFETIMES) tally.lifetimesS.push(seconds);
}

/** "a: 3, b: 1", most frequent first. */
export function describeCounts(record: Record<string, number>, limit = 6): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, limit).map(([k, v]) => `${k}: ${v}`);
  if (entries.length > limit) shown.push(`… ${entries.length - limit} more`);
  return shown.join(', ');
}
