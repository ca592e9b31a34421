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
  dataDir: string;
  output(): string;
  /** Stops the PBX (SIGTERM, as a service manager would) and waits for it to exit. */
  stop(): Promise<number | null>;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
}

export async function startPbxProcess(options: { dataDir?: string; port?: number } = {}): Promise<PbxProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'offhook-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'serve', '--demo', '--http-port', String(options.port ?? 0), '--bind', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: process.env.OFFHOOK_LOG_LEVEL ?? 'warn' } },
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

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return {
    url,
    dataDir,
    output: () => out,
    stop,
    async dispose() {
      await stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
