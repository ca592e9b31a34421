/**
 * The built `offhook-pbx` as an administrator uses it, and `npm start`'s launcher as a person meets it on a
 * machine where Electron's runtime is missing. Runs after `npm run build` (as `npm test` orders it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/server/cli.js');
/** SIP transports on free ports, so tests never compete for 5060/5061 with each other or the machine. */
const EPHEMERAL_SIP = ['--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0'];

function pbx(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, OFFHOOK_LOG_LEVEL: 'warn' } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('offhook-pbx', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-cli-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  });

  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('adds, lists and re-passwords users, and signs in with the new password', async () => {
    const dir = dataDir();
    const added = pbx(['user', 'add', '--data-dir', dir, '--organization', 'example.com', '--extension', '201', '--name', 'Erin Example'], 'first-password\n');
    expect(added.err).toBe('');
    expect(added.out).toContain('Added 201 (Erin Example) to example.com.');

    const duplicate = pbx(['user', 'add', '--data-dir', dir, '--organization', 'example.com', '--extension', '201', '--name', 'Again', '--password', 'another-password']);
    expect(duplicate.code).toBe(2);
    expect(duplicate.err).toContain('already exists');

    const device = pbx(['user', 'sip-password', '--data-dir', dir, '--extension', '201', '--password', 'desk-phone-pass']);
    expect(device.code).toBe(0);
    expect(device.out).toContain('201');

    const listed = pbx(['user', 'list', '--data-dir', dir]);
    expect(listed.out).toMatch(/example\.com[\s\S]*201\s+Erin Example/);

    expect(pbx(['user', 'passwd', '--data-dir', dir, '--extension', '201', '--password', 'second-password']).out).toContain('Changed the password of 201.');
    expect(pbx(['user', 'passwd', '--data-dir', dir, '--extension', '999', '--password', 'second-password']).err).toContain('There is no extension 999');

    // The server reads the same database: the new password signs in, the old one does not.
    const server = spawn(process.execPath, [CLI, 'serve', '--http-port', '0', ...EPHEMERAL_SIP, '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /web phone\s+(http:\/\/\S+?)\/?\s/.exec(out);
          if (match?.[1]) resolveUrl(match[1]);
        });
        server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const signIn = (password: string) =>
        fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extension: '201', password }) });
      expect((await signIn('second-password')).status).toBe(201);
      expect((await signIn('first-password')).status).toBe(401);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('says which port is taken when a SIP port is already in use', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((resolveBind) => holder.bind(0, '127.0.0.1', () => resolveBind()));
    try {
      const port = holder.address().port;
      const taken = pbx(['serve', '--data-dir', dataDir(), '--http-port', '0', '--sip-udp-port', String(port), '--sip-tcp-port', 'off', '--sip-tls-port', 'off']);
      expect(taken.code).toBe(1);
      expect(taken.err).toContain(`127.0.0.1 port ${port} is already in use by another program`);
    } finally {
      holder.close();
    }
  });

  it('answers serve --help with the usage, as help does', () => {
    const help = pbx(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('offhook-pbx serve [options]');
    expect(help.out).toBe(pbx(['help']).out);
  });

  it('refuses unknown options and bad values with a sentence, not a stack trace', () => {
    const unknown = pbx(['serve', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe('offhook-pbx: Unknown option --no-such-flag. Run "offhook-pbx help" for the list.\n');
    const badPort = pbx(['serve', '--http-port', 'eighty']);
    expect(badPort.err).toContain('--http-port must be a port number from 0 to 65535, not "eighty".');
    expect(pbx(['user', 'add', '--data-dir', dataDir(), '--extension', '1', '--name', 'X', '--password', 'long-enough']).err).toContain('--extension must be 2 to 10 digits.');
  });
});

describe('npm start where Electron cannot run', () => {
  it('starts the PBX with the demo organization, says why the desktop app is not starting, and prints the web phone address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-start-'));
    // Here Electron's runtime is missing; where it is installed, having no display stops it the same way.
    const env = { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' };
    const child = spawn(process.execPath, ['scripts/start.mjs', '--http-port', '0', ...EPHEMERAL_SIP, '--data-dir', dir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await expect.poll(() => out, { timeout: 20_000 }).toContain('Use the web phone instead');
      expect(out).toMatch(/The desktop app can't start here: .+\./);
      expect(out).toContain('101  Alice Adams  password alice-101');
      const url = /open (http:\/\/\S+?)\/? in/.exec(out)?.[1];
      expect(url).toBeDefined();
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
