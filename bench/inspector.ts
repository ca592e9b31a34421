/**
 * The PBX's own view of its memory, for the bench: the PBX is started with `--inspect=127.0.0.1:0`, and
 * through the inspector protocol (over its WebSocket) the bench asks V8 for a full garbage collection and
 * then reads `process.memoryUsage()`. RSS alone mostly shows how far V8 grew its heap for the garbage of
 * the work just done; the heap in use after a collection is what that work left behind.
 */
import { createWriteStream } from 'node:fs';
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

/** One connection to a process's inspector: protocol calls by method, and its events. */
export interface InspectorSession {
  call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  on(event: string, listener: (params: Record<string, unknown>) => void): void;
  close(): void;
}

export async function openInspector(url: string): Promise<InspectorSession> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const listeners = new Map<string, Array<(params: Record<string, unknown>) => void>>();
  socket.on('message', (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as { method?: string; params?: Record<string, unknown> };
    if (message.method) for (const listener of listeners.get(message.method) ?? []) listener(message.params ?? {});
  });
  return {
    call: (method, params = {}) =>
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
      }),
    on: (event, listener) => listeners.set(event, [...(listeners.get(event) ?? []), listener]),
    close: () => socket.close(),
  };
}

export async function memoryAfterGc(url: string): Promise<MemoryUsage> {
  const session = await openInspector(url);
  try {
    await session.call('HeapProfiler.collectGarbage');
    await session.call('HeapProfiler.collectGarbage');
    const result = await session.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const value = (result.result as { value?: string } | undefined)?.value;
    if (!value) throw new Error('the PBX did not report its memory');
    return JSON.parse(value) as MemoryUsage;
  } finally {
    session.close();
  }
}

/** Writes a heap snapshot of the process to `file` (open it in Chrome DevTools' Memory tab). */
export async function writeHeapSnapshot(url: string, file: string): Promise<void> {
  const session = await openInspector(url);
  const out = createWriteStream(file);
  try {
    session.on('HeapProfiler.addHeapSnapshotChunk', (params) => out.write(String(params.chunk ?? '')));
    await session.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    session.close();
    await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}
