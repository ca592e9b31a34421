/**
 * The PBX's own view of its memory, for the bench: the PBX is started with `--inspect=127.0.0.1:0`, and
 * through the inspector protocol (over its WebSocket) the bench asks V8 for a full garbage collection and
 * then reads `process.memoryUsage()`. RSS alone mostly shows how far V8 grew its heap for the garbage of
 * the work just done; the heap in use after a collection is what that work left behind.
 */
import WebSocket from 'ws';

export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The inspector's WebSocket address from the line Node prints on stderr when it starts listening. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

export async function memoryAfterGc(url: string): Promise<MemoryUsage> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (message.id !== id) return;
        socket.off('message', onMessage);
        if (message.error) reject(new Error(message.error.message));
        else resolve(message.result ?? {});
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const value = (result.result as { value?: string } | undefined)?.value;
    if (!value) throw new Error('the PBX did not report its memory');
    return JSON.parse(value) as MemoryUsage;
  } finally {
    socket.close();
  }
}
