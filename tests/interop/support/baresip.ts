/**
 * baresip (Debian's baresip 1.0) as a desk-phone-like SIP app in tests: headless, registering over UDP with a
 * device SIP password, playing a WAV file as its microphone (aufile), answering by itself, recording what it
 * hears (the sndfile filter dumps the decoded stream to WAV), and dialling on command over ctrl_tcp.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports';

export interface Baresip {
  /** Dials a SIP URI (ctrl_tcp `dial`). */
  dial(uri: string): Promise<void>;
  /** Hangs up the current call (ctrl_tcp `hangup`). */
  hangUp(): Promise<void>;
  /** The decoded audio baresip heard in its calls so far, as 16-bit mono samples with their rate. */
  heard(): { samples: Int16Array; sampleRate: number } | undefined;
  output(): string;
  stop(): Promise<void>;
}

export interface BaresipOptions {
  dir: string;
  extension: string;
  domain: string;
  password: string;
  registrar: { host: string; port: number };
  /** 8 kHz mono 16-bit WAV played as the microphone, in a loop. */
  sourceWav: string;
}

export async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  const confDir = join(options.dir, 'conf');
  const dumpDir = join(options.dir, 'dump');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(dumpDir, { recursive: true });
  const ctrlPort = await freePort();
  // aubridge stands in for a sound card: a player that drives the decoder, so the sndfile filter sees what
  // the far end sends, without any audio device on the machine.
  writeFileSync(
    join(confDir, 'config'),
    [
      'poll_method epoll',
      'sip_listen 127.0.0.1:0',
      'sip_transports udp',
      `audio_source aufile,${options.sourceWav}`,
      'audio_player aubridge,offhook-test',
      `audio_alert aufile,${options.sourceWav}`,
      'audio_srate 8000',
      'audio_channels 1',
      'module_path /usr/lib/baresip/modules',
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
  writeFileSync(
    join(confDir, 'accounts'),
    `<sip:${extension}@${domain};transport=udp>;auth_pass=${password};outbound="sip:${registrar.host}:${registrar.port};transport=udp";answermode=auto;audio_codecs=PCMU,PCMA;regint=600\n`,
  );

  const child: ChildProcess = spawn('baresip', ['-f', confDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`baresip did not register within 10 s:\n${out}`)), 10_000);
    const check = setInterval(() => {
      if (/200 OK.*binding/.test(out)) {
        clearTimeout(deadline);
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearTimeout(deadline);
        clearInterval(check);
        reject(new Error(`baresip exited with ${child.exitCode}:\n${out}`));
      }
    }, 50);
  });

  const command = (name: string, params = '') =>
    new Promise<void>((resolve, reject) => {
      // ctrl_tcp speaks JSON in netstrings (length:payload,).
      const payload = JSON.stringify({ command: name, params, token: name });
      const socket = connect(ctrlPort, '127.0.0.1', () => socket.end(`${Buffer.byteLength(payload)}:${payload},`));
      socket.setTimeout(5_000, () => socket.destroy(new Error(`baresip did not take the ${name} command`)));
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });

  return {
    dial: (uri) => command('dial', uri),
    hangUp: () => command('hangup'),
    heard() {
      const files = readdirSync(dumpDir).filter((name) => name.includes('dec') && name.endsWith('.wav'));
      const last = files.sort().at(-1);
      return last ? readWav(join(dumpDir, last)) : undefined;
    },
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The samples of a PCM WAV file (the first channel), found by walking its chunks. */
export function readWav(path: string): { samples: Int16Array; sampleRate: number } {
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
      const end = Math.min(data.length, offset + 8 + size);
      const frames = Math.floor((end - offset - 8) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(offset + 8 + i * 2 * channels);
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  return { samples: new Int16Array(0), sampleRate };
}

/** Relative power of one frequency in the signal (Goertzel), for "is this tone there" checks. */
export function tonePower(samples: Int16Array, sampleRate: number, hz: number): number {
  const k = (2 * Math.cos((2 * Math.PI * hz) / sampleRate));
  let s1 = 0;
  let s2 = 0;
  for (const sample of samples) {
    const s0 = sample / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / Math.max(1, samples.length);
}
