// `npm start`: the PBX with its embedded database and the demo organization, then the desktop app.
// Where Electron's runtime is missing (and cannot be fetched) or there is no display, it says so and
// leaves the PBX running with the web phone's address to open in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const children = new Set();

function stopAll(code = 0) {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

const pbx = spawn(process.execPath, ['dist/server/cli.js', 'serve', '--demo', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.add(pbx);
pbx.on('exit', (code) => {
  children.delete(pbx);
  if (code !== 0 && code !== null) process.stderr.write(`\nThe PBX stopped (exit code ${code}).\n`);
  stopAll(code ?? 0);
});

let launched = false;
let buffered = '';
pbx.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const match = /web phone\s+(\S+)/.exec(buffered);
  if (match && !launched) {
    launched = true;
    launchDesktop(match[1]);
  }
});

function electronBinary() {
  let dir;
  try {
    dir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const locate = () => {
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return undefined;
    const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8'));
    return existsSync(binary) ? binary : undefined;
  };
  let binary = locate();
  if (!binary) {
    process.stdout.write('\nFetching Electron\'s runtime (first launch)…\n');
    const result = spawnSync(process.execPath, [join(dir, 'install.js')], { stdio: 'pipe', timeout: 300_000 });
    binary = result.status === 0 ? locate() : undefined;
    if (!binary) return { reason: "Electron's runtime is not installed and could not be downloaded from this machine" };
  }
  return { binary };
}

function launchDesktop(webPhoneUrl) {
  const fallback = (reason) => {
    process.stdout.write(
      `\nThe desktop app can't start here: ${reason}.\n` +
        `The PBX is running. Use the web phone instead: open ${webPhoneUrl} in Chrome, Edge or Firefox\n` +
        '(two windows, e.g. one normal and one private, to call between two demo users). Press Ctrl+C to stop.\n',
    );
  };
  const found = electronBinary();
  if (!found.binary) {
    fallback(found.reason);
    return;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    fallback('there is no graphical display (DISPLAY is not set)');
    return;
  }
  const app = spawn(found.binary, ['.'], { stdio: 'inherit', env: { ...process.env, OFFHOOK_SERVER_URL: webPhoneUrl.replace(/\/$/, '') } });
  children.add(app);
  app.on('error', (error) => fallback(`Electron failed to start (${error.message})`));
  app.on('exit', (code) => {
    children.delete(app);
    if (code === 0) {
      process.stdout.write('\nOffhook closed; stopping the PBX.\n');
      stopAll(0);
    } else {
      fallback(`Electron exited with code ${code}`);
    }
  });
}
