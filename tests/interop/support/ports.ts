/** Local ports for peers started as child processes: free ones to hand out, and a wait until one is taken. */
import { createSocket } from 'node:dgram';
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

/** Waits (at most `timeoutMs`) until a child process has bound `port`, so it is ready for traffic. */
export async function waitUntilBound(port: number, transport: 'udp' | 'tcp', timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await (transport === 'udp' ? udpFree(port) : tcpFree(port)))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing bound ${transport.toUpperCase()} port ${port} within ${timeoutMs} ms`);
}
