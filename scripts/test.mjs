// `npm test`: every check, in order, stopping at the first that fails. Exit codes pass through unchanged.
import { spawnSync } from 'node:child_process';

const steps = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['type-check renderer', 'npx', ['vue-tsc', '-p', 'renderer/tsconfig.json', '--noEmit']],
  ['lint (incl. layering: shared/ and renderer/ import no Node or Electron)', 'npx', ['eslint', '--max-warnings', '0', '.']],
  ['unit tests', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['build', 'node', ['scripts/build.mjs']],
  ['integration tests', 'npx', ['vitest', 'run', '--project', 'integration']],
  ['end-to-end tests', 'npx', ['vitest', 'run', '--project', 'e2e']],
];

const only = process.argv[2];
for (const [name, command, args] of steps) {
  if (only && !name.startsWith(only)) continue;
  process.stdout.write(`\n▶ ${name}\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stdout.write(`\n✖ ${name} failed after ${seconds} s (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
  process.stdout.write(`✔ ${name} (${seconds} s)\n`);
}
