/** Local ports for peers started as child processes: free ones to hand out, and a wait until one is taken. */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

async function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolveFree) => {
    socket.once('error', () => resolveFree(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolveFree(true)));
  });
}

async function tcpFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolveFree) => {
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** A port free for both UDP and TCP on 127.0.0.1, from the kernel's ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((r) => socket.bind(0, '127.0.0.1', () => r(socket.address().port)));
    await new Promise<void>((r) => socket.close(() => r()));
    if (await tcpFree(port)) return port;
  }
  throw new Error('no free port for both UDP and TCP on 127.0.0.1');
}

/**
 * Whether something on this machine has bound `port`, read from the kernel's socket tables (Linux), so the check
 * never holds the port itself: binding it to probe could take it at the very moment the peer binds it, and the
 * peer would fail. TCP counts only a listening socket (state 0A); UDP any bound one.
 */
function boundInProcTables(port: number, transport: 'udp' | 'tcp'): boolean | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let found = false;
  let readAny = false;
  for (const table of [`/proc/net/${transport}`, `/proc/net/${transport}6`]) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      if (!local?.endsWith(`:${hexPort}`)) continue;
      if (transport === 'udp' || state === '0A') found = true;
    }
  }
  return readAny ? found : undefined;
}

/**
 * Waits (at most `timeoutMs`) until a child process has bound `port`, so it is ready for traffic. `exited`, when
 * given, ends the wait early with the child's own account if it exits first.
 */
export async function waitUntilBound(port: number, transport: 'udp' | 'tcp', timeoutMs = 5_000, exited?: () => string | undefined): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const why = exited?.();
    if (why !== undefined) throw new Error(`the process meant to bind ${transport.toUpperCase()} port ${port} exited first: ${why}`);
    // Without the kernel's tables (not Linux), fall back to trying the port, which can race the child.
    const bound = boundInProcTables(port, transport) ?? !(await (transport === 'udp' ? udpFree(port) : tcpFree(port)));
    if (bound) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing bound ${transport.toUpperCase()} port ${port} within ${timeoutMs} ms`);
}
