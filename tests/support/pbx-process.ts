/**
 * The PBX in a process of its own (`offhook-pbx serve` run from source), for tests that kill it as a crash
 * or a power cut would: SIGKILL, with nothing written on the way out. Loopback only, UDP SIP on the port
 * given so that a PBX started after it on the same port and data folder is the one the phones knew.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'server/cli.ts');
/** Starting from source compiles on the fly: generous, for a loaded machine. */
const START_TIMEOUT_MS = 20_000;

export interface PbxProcess {
  readonly child: ChildProcess;
  /** What it printed, for a failing test's message. */
  output(): string;
  /** Kills it at once, as a crash would, and waits until it is gone. */
  kill(): Promise<void>;
}

/** `serve --demo` on `dataDir`, SIP over UDP only on `sipUdpPort`; resolves once it says it is running. */
export async function startPbxProcess(dataDir: string, sipUdpPort: number): Promise<PbxProcess> {
  const args = ['--import', 'tsx', CLI, 'serve', '--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', String(sipUdpPort), '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' } });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the PBX did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    const onData = () => {
      if (!/SIP over UDP\s+sip:\S+:\d+/.test(out)) return;
      clearTimeout(timer);
      ready();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`the PBX exited (${code ?? signal}) before it started:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
