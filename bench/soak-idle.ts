/**
 * Idle connections from many addresses: TCP connections to the SIP port that never send a byte, TCP
 * connections to the TLS port that never send a ClientHello, and WebSockets to /sip that open and say
 * nothing. Each slot holds one open for as long as the PBX allows; when the PBX closes it the slot counts how
 * long it lasted and opens another, so the pressure stays for the whole run. A close within a second of
 * opening is counted as a refusal (a per-address or total cap doing its work).
 */
import WebSocket from 'ws';
import type { SoakContext } from './soak-context';
import { lifetime } from './soak-counters';
import type { IdleTally } from './soak-counters';
import { BLOCKS, sourceAddress, tcpSocket } from './soak-wire';

const REFUSED_WITHIN_MS = 1_000;
const REOPEN_MS = 1_000;
const RETRY_AFTER_FAILURE_MS = 5_000;
/** A WebSocket refused for a limit is closed with 1013, "try again later". */
const WS_TRY_AGAIN = 1013;

type IdleKind = 'TCP' | 'TLS' | 'WS';

/** Opens one idle connection; resolves with a promise of its close (and whether the PBX said it refused), or throws. */
async function openIdle(context: SoakContext, kind: IdleKind, address: string): Promise<{ closed: Promise<{ refused: boolean }>; close(): void }> {
  if (kind === 'WS') {
    const socket = new WebSocket(`ws://${context.pbx.host}:${context.pbx.http}/sip`, 'sip', { localAddress: address, handshakeTimeout: 5_000 });
    socket.on('error', () => socket.terminate());
    const closed = new Promise<{ refused: boolean }>((resolve) => socket.once('close', (code) => resolve({ refused: code === WS_TRY_AGAIN })));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      void closed.then(() => reject(new Error('closed before opening')));
    });
    return { closed, close: () => socket.terminate() };
  }
  const socket = await tcpSocket(address, context.pbx.host, kind === 'TCP' ? context.pbx.tcp : context.pbx.tls);
  socket.on('error', () => socket.destroy());
  // Nothing is ever written; whatever the PBX sends (a TLS alert) is read and dropped.
  socket.on('data', () => undefined);
  const closed = new Promise<{ refused: boolean }>((resolve) => socket.once('close', () => resolve({ refused: false })));
  return { closed, close: () => socket.destroy() };
}

async function idleSlot(context: SoakContext, kind: IdleKind, address: string, tally: IdleTally): Promise<void> {
  while (context.running) {
    let connection: Awaited<ReturnType<typeof openIdle>>;
    try {
      connection = await openIdle(context, kind, address);
    } catch {
      if (!context.running) return;
      tally.failedToOpen += 1;
      await context.pause(RETRY_AFTER_FAILURE_MS);
      continue;
    }
    tally.opened += 1;
    const opened = Date.now();
    const entry = context.registry.add({ close: connection.close });
    const end = await Promise.race([connection.closed, context.stopped.then(() => undefined)]);
    context.registry.forget(entry);
    connection.close();
    const lastedMs = Date.now() - opened;
    if (!end || (await context.pbxGoneSoon()) || !context.running) return;
    if (end.refused || lastedMs < REFUSED_WITHIN_MS) tally.refused += 1;
    else {
      tally.closedByPbx += 1;
      lifetime(tally, lastedMs / 1000);
    }
    await context.pause(REOPEN_MS);
  }
}

export async function idleTraffic(context: SoakContext): Promise<void> {
  const { options, counters } = context;
  const slots: Array<Promise<void>> = [];
  let n = 0;
  for (const [kind, total] of [['TCP', options.idleTcp], ['TLS', options.idleTls], ['WS', options.idleWs]] as const) {
    for (let i = 0; i < total; i++, n++) slots.push(idleSlot(context, kind, sourceAddress(BLOCKS.idle, n % options.idleSources), counters.idle[kind]));
  }
  await Promise.all(slots);
}
