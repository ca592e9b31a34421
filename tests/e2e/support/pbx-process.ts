/**
 * Runs the built PBX (`dist/server/cli.js serve`) as a person would, on an ephemeral port with a temporary
 * data folder and the demo organization, and reads its printed address.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../../dist/server/cli.js');

export interface PbxProcess {
  url: string;
  /** The HTTP port it listens on (also the SIP over WebSocket port). */
  port: number;
  /** Its SIP over UDP port, for desk phones. */
  sipUdpPort: number;
  dataDir: string;
  output(): string;
  /**
   * Stops the PBX and waits for it to exit: SIGTERM as a service manager would (it ends its calls first), or
   * SIGKILL for a crash (nothing is said to anyone).
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /** Freezes the process (SIGSTOP) or lets it go on (SIGCONT): to the phones, a network that stops carrying anything for a while. */
  freeze(frozen: boolean): void;
  /** Stops it if it runs and starts it again on the same port and data folder, as after a reboot or an upgrade. */
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<PbxProcess>;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
}

export interface PbxProcessOptions {
  /** A data folder to use (and keep); without one, a temporary folder is made and removed by `dispose()`. */
  dataDir?: string;
  port?: number;
  /** Remove `dataDir` on dispose even though it was given (a restarted PBX owns the folder its first run made). */
  removeDataDir?: boolean;
  /** What the PBX logs (`output()`): warnings and errors unless OFFHOOK_LOG_LEVEL or this says otherwise. */
  logLevel?: 'debug' | 'info' | 'warn';
}

export async function startPbxProcess(options: PbxProcessOptions = {}): Promise<PbxProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'offhook-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'serve', '--demo', '--http-port', String(options.port ?? 0), '--bind', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: options.logLevel ?? process.env.OFFHOOK_LOG_LEVEL ?? 'warn' } },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the PBX did not start within 20 s:\n${out}`)), 20_000);
    const check = () => {
      const match = /web phone\s+(http:\/\/\S+?)\/?\s/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the PBX exited with ${code} before it started:\n${out}`));
    });
  });

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const port = Number(new URL(url).port);
  const sipUdpPort = Number(/SIP over UDP\s+sip:\S+?:(\d+);/.exec(out)?.[1] ?? 0);
  return {
    url,
    port,
    sipUdpPort,
    dataDir,
    output: () => out,
    stop,
    freeze: (frozen) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    async restart(signal) {
      await stop(signal);
      return startPbxProcess({ dataDir, port, removeDataDir: !options.dataDir || options.removeDataDir === true });
    },
    async dispose() {
      await stop();
      if (!options.dataDir || options.removeDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
