// Builds every part with Vite: the renderer (desktop app and web phone), the PBX, Electron's main and
// preload. `npm start`, `npm run dist` and the end-to-end tests run this first.
import { build } from 'vite';

const targets = [
  ['web phone / renderer', 'vite.renderer.config.ts'],
  ['PBX', 'vite.server.config.ts'],
  ['desktop main', 'vite.main.config.ts'],
  ['desktop preload', 'vite.preload.config.ts'],
];

const started = Date.now();
for (const [name, configFile] of targets) {
  process.stdout.write(`building ${name}…\n`);
  await build({ configFile, logLevel: 'warn' });
}
process.stdout.write(`built everything in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
