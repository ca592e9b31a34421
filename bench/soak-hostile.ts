/**
 * The soak's hostile traffic, each kind from its own block of loopback addresses (soak-wire.ts BLOCKS), and
 * each source within the PBX's per-address allowance, as a distributed attacker would keep it:
 * - malformed packets (soak-malformed.ts) over UDP from many addresses, and over a few TCP connections;
 * - the known killer now and then (a top Via naming port 0 without rport);
 * - wrong-password REGISTERs spread over many addresses, against accounts in use and decoys;
 * - large (~60 KB) requests over UDP and TCP from many addresses, never acknowledged.
 * A "victim" socket counts every datagram the PBX aims at it because a forged Via said so.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { DOMAIN, describeError, paced } from './soak-context';
import type { SoakContext } from './soak-context';
import { count, outcome, sent } from './soak-counters';
import { kindOfResponse, MalformedFactory } from './soak-malformed';
import type { Origin } from './soak-malformed';
import { SoakPhone } from './soak-phone';
import type { SipUser } from './soak-phone';
import { BLOCKS, sourceAddress, tcpSocket, udpWire } from './soak-wire';
import type { Wire } from './soak-wire';

/** How long a guess waits for its answer: a source the PBX has silenced shows as no answer. */
const GUESS_TIMEOUT_MS = 5_000;
/** Malformed traffic that goes over TCP instead of UDP, over this many connections. */
const MALFORMED_TCP_SHARE = 0.1;
const MALFORMED_TCP_CONNECTIONS = 4;
const REOPEN_MS = 1_000;
/** Output held for a connection the PBX does not read is capped: beyond it, what would be sent is left out. */
const MAX_UNSENT_BYTES = 1024 * 1024;

/** Whether `stream` can take more without our own buffer growing for a PBX that does not read. */
function writable(stream: Socket | undefined): stream is Socket {
  return stream !== undefined && !stream.destroyed && stream.writableLength < MAX_UNSENT_BYTES;
}

interface UdpSource extends Origin {
  socket: UdpSocket;
}

async function udpSource(context: SoakContext, address: string, onMessage: (data: Buffer) => void): Promise<UdpSource> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', onMessage);
  socket.on('error', () => undefined);
  context.registry.add({ close: () => socket.close() });
  return { socket, address, port: socket.address().port };
}

/** The status of each response in `text` (one datagram, or a chunk of a stream). */
function statuses(text: string): string[] {
  return [...text.matchAll(/SIP\/2\.0 (\d{3})/g)].map((m) => m[1] ?? '');
}

/** A socket of the soak on a loopback address of its own, counting what the PBX was tricked into sending it. */
export async function victim(context: SoakContext): Promise<Origin> {
  const source = await udpSource(context, sourceAddress(BLOCKS.victim, 0), (data) => {
    context.counters.reflected.datagrams += 1;
    context.counters.reflected.bytes += data.length;
  });
  return { address: source.address, port: source.port };
}

/**
 * A TCP connection from `address` kept open while the run lasts: opened again a second after the PBX
 * closes it, each close counted under `kind`. `onOpen` is handed the socket while it is open, and
 * undefined once it has closed.
 */
async function keptConnection(context: SoakContext, address: string, port: number, kind: string, onOpen: (socket: Socket | undefined) => void): Promise<void> {
  while (context.running) {
    let socket: Socket;
    try {
      socket = await tcpSocket(address, context.pbx.host, port);
    } catch (error) {
      outcome(context.counters, kind, `connect failed: ${describeError(error)}`);
      await context.pause(REOPEN_MS * 5);
      continue;
    }
    const entry = context.registry.add({ close: () => socket.destroy() });
    socket.on('data', (chunk: Buffer) => {
      for (const status of statuses(chunk.toString('latin1'))) outcome(context.counters, kind, `answered ${status}`);
    });
    socket.on('error', () => socket.destroy());
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    onOpen(socket);
    await Promise.race([closed, context.stopped]);
    onOpen(undefined);
    context.registry.forget(entry);
    socket.destroy();
    if (!(await context.pbxGoneSoon()) && context.running) outcome(context.counters, kind, 'connection closed by the PBX');
    await context.pause(REOPEN_MS);
  }
}

export async function malformedTraffic(context: SoakContext, target: Origin): Promise<void> {
  const { options, counters } = context;
  const factory = new MalformedFactory(target);
  const onResponse = (data: Buffer) => {
    const text = data.toString('latin1');
    const kind = kindOfResponse(text) ?? 'malformed: answers without a branch of ours (odd Vias)';
    for (const status of statuses(text)) outcome(counters, kind, `answered ${status}`);
  };
  const sources = await Promise.all(Array.from({ length: options.malformedSources }, (_, i) => udpSource(context, sourceAddress(BLOCKS.malformed, i), onResponse)));
  const streams: Array<Socket | undefined> = [];
  const loops: Array<Promise<void>> = [];
  if (options.kinds.has('malformed')) {
    for (let i = 0; i < MALFORMED_TCP_CONNECTIONS; i++) {
      loops.push(keptConnection(context, sourceAddress(BLOCKS.malformed, options.malformedSources + i), context.pbx.tcp, 'malformed: over TCP', (s) => (streams[i] = s)));
    }
    let n = 0;
    loops.push(
      paced(context, options.malformedPerSecond, () => {
        n += 1;
        const stream = Math.random() < MALFORMED_TCP_SHARE ? streams[n % MALFORMED_TCP_CONNECTIONS] : undefined;
        if (writable(stream)) {
          const packet = factory.next({ address: stream.localAddress ?? '', port: stream.localPort ?? 0 }, 'TCP');
          sent(counters, 'malformed: over TCP', packet.data.length);
          stream.write(packet.data);
          return;
        }
        const source = sources[n % sources.length]!;
        const packet = factory.next(source);
        sent(counters, packet.kind, packet.data.length);
        source.socket.send(packet.data, context.pbx.udp, context.pbx.host);
      }),
    );
  }
  if (options.kinds.has('killers') && options.killerEverySeconds > 0) loops.push(killers(context, factory, sources));
  await Promise.all(loops);
}

/** The known killer, first after 10 s of traffic (or half the run, if shorter), then every killerEverySeconds. */
async function killers(context: SoakContext, factory: MalformedFactory, sources: readonly UdpSource[]): Promise<void> {
  await context.pause(Math.min(10, context.options.seconds / 2) * 1000);
  for (let n = 0; context.running; n++) {
    const source = sources[n % sources.length]!;
    const packet = factory.killer(source);
    sent(context.counters, packet.kind, packet.data.length);
    source.socket.send(packet.data, context.pbx.udp, context.pbx.host);
    await context.pause(context.options.killerEverySeconds * 1000);
  }
}

/**
 * Wrong passwords against `targets`, from many addresses in turn: each source guesses one at a time, and
 * the sources together make guessesPerSecond, so that no one source looks like much.
 */
export async function guessingTraffic(context: SoakContext, targets: readonly SipUser[]): Promise<void> {
  const { options, counters } = context;
  const guesses = counters.guesses;
  if (targets.length === 0) return;
  const wires: Array<Wire | undefined> = [];
  const busy = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  const guess = async (index: number) => {
    wires[index] ??= await udpWire(context.registry, sourceAddress(BLOCKS.guessing, index), context.pbx);
    const target = targets[n % targets.length]!;
    const phone = new SoakPhone(wires[index]!, { extension: target.extension, password: `wrong-${randomBytes(4).toString('hex')}` }, DOMAIN);
    guesses.attempts += 1;
    sent(counters, 'guessing: wrong password', 0);
    try {
      const answer = await phone.register(60, { timeoutMs: GUESS_TIMEOUT_MS });
      outcome(counters, 'guessing: wrong password', `answered ${answer.status}`);
      if (answer.status === 403) guesses.refused += 1;
      else if (answer.status === 200) guesses.accepted += 1;
      else count(guesses.other, `${answer.status} ${answer.reason}`);
    } catch {
      guesses.unanswered += 1;
      outcome(counters, 'guessing: wrong password', 'no answer');
    }
  };
  await paced(context, options.guessesPerSecond, () => {
    n += 1;
    // The next source not already waiting for an answer; none free means this guess is left out.
    for (let k = 0; k < options.guessSources; k++) {
      const index = (n + k) % options.guessSources;
      if (busy.has(index)) continue;
      busy.add(index);
      const run = guess(index)
        .catch((error: unknown) => count(guesses.other, describeError(error)))
        .finally(() => {
          busy.delete(index);
          inFlight.delete(run);
        });
      inFlight.add(run);
      return;
    }
  });
  await Promise.all(inFlight);
}

/** A request of about `bytes` (an SDP, a text or a header padding), from `origin`. */
function largeRequest(method: string, origin: Origin, transport: 'UDP' | 'TCP', bytes: number, n: number): Buffer {
  const head = [
    `${method} sip:${method === 'REGISTER' ? DOMAIN : `2001@${DOMAIN}`} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${origin.address}:${origin.port};branch=z9hG4bKlarge${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:2001@${DOMAIN}>;tag=l${n}`,
    `To: <sip:${method === 'REGISTER' ? 2001 : 2002}@${DOMAIN}>`,
    `Call-ID: large-${n}-${origin.address}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:2001@${origin.address}:${origin.port}>`,
  ];
  const room = Math.max(0, bytes - head.join('\r\n').length - 100);
  if (method === 'REGISTER') {
    const pad = Array.from({ length: Math.floor(room / 1000) }, (_, i) => `X-Pad-${i}: ${'p'.repeat(988)}`);
    return Buffer.from([...head, ...pad, 'Content-Length: 0', '', ''].join('\r\n'));
  }
  const body = method === 'INVITE'
    ? ['v=0', `o=l ${n} 1 IN IP4 ${origin.address}`, 's=-', `c=IN IP4 ${origin.address}`, 't=0 0', 'm=audio 4000 RTP/AVP 0', ...Array.from({ length: Math.floor(room / 60) }, (_, i) => `a=x-pad-${i}:${'q'.repeat(44)}`), ''].join('\r\n')
    : 'm'.repeat(room);
  const type = method === 'INVITE' ? 'application/sdp' : 'text/plain';
  return Buffer.from([...head, `Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
}

/** Large requests from many addresses, half over UDP and half over a TCP connection per address; none acknowledged. */
export async function largeTraffic(context: SoakContext): Promise<void> {
  const { options, counters } = context;
  const methods = ['INVITE', 'MESSAGE', 'REGISTER', 'OPTIONS'] as const;
  const udpKind = 'large: ~60 KB over UDP';
  const tcpKind = 'large: ~60 KB over TCP';
  const sources = await Promise.all(
    Array.from({ length: options.largeSources }, (_, i) =>
      udpSource(context, sourceAddress(BLOCKS.large, i), (data) => {
        for (const status of statuses(data.toString('latin1'))) outcome(counters, udpKind, `answered ${status}`);
      }),
    ),
  );
  const streams: Array<Socket | undefined> = [];
  const loops = sources.map((source, i) => keptConnection(context, source.address, context.pbx.tcp, tcpKind, (s) => (streams[i] = s)));
  let n = 0;
  loops.push(
    paced(context, options.largePerSecond, () => {
      n += 1;
      const index = Math.floor(n / 2) % sources.length;
      const method = methods[Math.floor(n / 2) % methods.length] ?? 'INVITE';
      const stream = streams[index];
      if (n % 2 === 1 && writable(stream)) {
        const data = largeRequest(method, { address: stream.localAddress ?? '', port: stream.localPort ?? 0 }, 'TCP', options.largeBytes, n);
        sent(counters, tcpKind, data.length);
        stream.write(data);
        return;
      }
      const source = sources[index]!;
      const data = largeRequest(method, source, 'UDP', options.largeBytes, n);
      sent(counters, udpKind, data.length);
      source.socket.send(data, context.pbx.udp, context.pbx.host);
    }),
  );
  await Promise.all(loops);
}
