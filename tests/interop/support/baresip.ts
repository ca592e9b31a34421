/**
 * baresip (Debian's baresip 1.0) as a desk-phone-like SIP app in tests: headless, registering over UDP with a
 * device SIP password, playing a WAV file as its microphone (aufile), answering by itself, recording what it
 * hears (the sndfile filter dumps each call's decoded stream to a WAV file), and dialling on command over
 * ctrl_tcp.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports';

const MODULE_PATH = '/usr/lib/baresip/modules';
const MODULES = ['g711', 'aufile', 'aubridge', 'sndfile', 'account', 'menu', 'ctrl_tcp'];

/** Why baresip can't take part on this machine, or undefined when it can. */
export function baresipMissing(): string | undefined {
  if (spawnSync('baresip', ['-h'], { stdio: 'ignore', timeout: 5_000 }).error) {
    return 'baresip is not installed (Debian: apt-get install baresip)';
  }
  const absent = MODULES.filter((name) => !existsSync(join(MODULE_PATH, `${name}.so`)));
  return absent.length > 0 ? `baresip lacks the modules ${absent.join(', ')} in ${MODULE_PATH}` : undefined;
}

/** The decoded audio of one call: 16-bit mono samples with their rate. */
export interface Recording {
  samples: Int16Array;
  sampleRate: number;
}

export interface Baresip {
  /** Dials a SIP URI (ctrl_tcp `dial`); rejects when baresip refuses the command. */
  dial(uri: string): Promise<void>;
  /** Hangs up the current call (ctrl_tcp `hangup`). */
  hangUp(): Promise<void>;
  /** The names of the recordings made so far, one per call. */
  recordings(): string[];
  /** What baresip heard in the one call recorded after `before` was taken, or undefined if none was. */
  heardSince(before: string[]): Recording | undefined;
  /** Everything baresip printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface BaresipOptions {
  dir: string;
  extension: string;
  domain: string;
  password: string;
  registrar: { host: string; port: number };
  /** 8 kHz mono 16-bit WAV played as the microphone (aufile takes only the codec's rate and S16LE). */
  sourceWav: string;
}

function writeConfig(confDir: string, dumpDir: string, ctrlPort: number, options: BaresipOptions): void {
  // aufile is a source only in 1.0, so aubridge names the player: with no aubridge source of the same name it
  // plays nowhere, which suits a machine without a sound card. No audio_alert line: its default is none.
  writeFileSync(
    join(confDir, 'config'),
    [
      'poll_method epoll',
      'sip_listen 127.0.0.1:0',
      `audio_source aufile,${options.sourceWav}`,
      'audio_player aubridge,offhook-test',
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'ausrc_channels 1',
      'auplay_channels 1',
      `module_path ${MODULE_PATH}`,
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `snd_path ${dumpDir}`,
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      '',
    ].join('\n'),
  );
  const { extension, domain, password, registrar } = options;
  // Only G.711 is loaded and offered, so the PBX must bridge the web phone's WebRTC leg to PCMU/PCMA.
  writeFileSync(
    join(confDir, 'accounts'),
    `<sip:${extension}@${domain};transport=udp>;auth_pass=${password};outbound="sip:${registrar.host}:${registrar.port};transport=udp";answermode=auto;audio_codecs=PCMU,PCMA;regint=600\n`,
  );
}

/** Resolves when `done()` holds, rejects when the child exits first or `timeoutMs` passes. */
function waitFor(child: ChildProcess, done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(deadline);
      clearInterval(check);
      if (error) reject(error);
      else resolve();
    };
    const deadline = setTimeout(() => finish(new Error(`baresip did not ${what()} within ${timeoutMs} ms`)), timeoutMs);
    const check = setInterval(() => {
      if (done()) finish();
      else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`baresip exited (${child.exitCode ?? child.signalCode}) before it could ${what()}`));
    }, 50);
  });
}

/**
 * Sends one ctrl_tcp command (JSON in a netstring, `length:payload,`) and waits for baresip's reply, skipping
 * the event netstrings ctrl_tcp sends on the same connection.
 */
function command(port: number, name: string, params = ''): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const payload = JSON.stringify({ command: name, params, token: name });
    let received = Buffer.alloc(0);
    const socket = connect(port, '127.0.0.1', () => socket.write(`${Buffer.byteLength(payload)}:${payload},`));
    socket.setTimeout(5_000, () => socket.destroy(new Error(`baresip did not answer the ${name} command within 5 s`)));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`baresip closed ctrl_tcp without answering ${name}`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const colon = received.indexOf(':');
        if (colon < 0) return;
        const length = Number(received.subarray(0, colon).toString());
        if (received.length < colon + 1 + length + 1) return;
        const message = JSON.parse(received.subarray(colon + 1, colon + 1 + length).toString()) as { response?: boolean; ok?: boolean; data?: string };
        received = received.subarray(colon + 1 + length + 1);
        if (!message.response) continue;
        socket.end();
        if (message.ok) resolve();
        else reject(new Error(`baresip refused ${name} ${params}: ${message.data ?? ''}`));
        return;
      }
    });
  });
}

export async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  const confDir = join(options.dir, 'conf');
  const dumpDir = join(options.dir, 'dump');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(dumpDir, { recursive: true });
  const ctrlPort = await freePort();
  writeConfig(confDir, dumpDir, ctrlPort, options);

  const child = spawn('baresip', ['-f', confDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }

  try {
    // The account prints "200 OK ... [1 binding]" once the PBX accepts its digest-authenticated REGISTER.
    await waitFor(child, () => /200 OK.*binding/.test(out), 10_000, () => `register:\n${out}`);
  } catch (error) {
    await stop();
    throw error;
  }

  const recordings = () => readdirSync(dumpDir).filter((name) => name.endsWith('-dec.wav')).sort();

  return {
    dial: (uri) => command(ctrlPort, 'dial', uri),
    hangUp: () => command(ctrlPort, 'hangup'),
    recordings,
    heardSince(before) {
      const fresh = recordings().filter((name) => !before.includes(name));
      if (fresh.length !== 1) return undefined;
      return readWav(join(dumpDir, fresh[0]!));
    },
    output: () => out,
    stop,
  };
}

/** The samples of a PCM WAV file (the first channel), found by walking its chunks. */
export function readWav(path: string): Recording {
  const data = readFileSync(path);
  let offset = 12;
  let sampleRate = 8000;
  let channels = 1;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = data.readUInt16LE(offset + 10);
      sampleRate = data.readUInt32LE(offset + 12);
    } else if (id === 'data') {
      // A file still being written may claim less (or more) than it holds; read what is there.
      const end = Math.min(data.length, offset + 8 + (size === 0 ? data.length : size));
      const frames = Math.floor((end - offset - 8) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(offset + 8 + i * 2 * channels);
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  return { samples: new Int16Array(0), sampleRate };
}

/**
 * The share of the signal's power at one frequency (Goertzel): about 1 for a pure tone at `hz`, near 0 when
 * that tone is absent, whatever the level.
 */
export function toneShare(samples: Int16Array, sampleRate: number, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const sample of samples) {
    const x = sample / 32768;
    energy += x * x;
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // A sine of amplitude A over N samples gives |X|² = (A·N/2)² and Σx² = N·A²/2, so 2|X|²/(N·Σx²) = 1.
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy === 0 ? 0 : (2 * power) / (samples.length * energy);
}

/** The RMS level in dB below full scale (-Infinity for silence). */
export function levelDbfs(samples: Int16Array): number {
  let energy = 0;
  for (const sample of samples) energy += (sample / 32768) ** 2;
  return 10 * Math.log10(energy / Math.max(1, samples.length));
}
