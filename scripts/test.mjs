// `npm test`: every check, in order, stopping at the first that fails. Exit codes pass through unchanged.
// Each Vitest project also writes a JSON report, so the run ends with one line counting every test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reports = mkdtempSync(join(tmpdir(), 'offhook-test-reports-'));
const vitest = (project) => ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${join(reports, `${project}.json`)}`];

const steps = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['type-check renderer', 'npx', ['vue-tsc', '-p', 'renderer/tsconfig.json', '--noEmit']],
  ['lint (incl. layering: PBX layers, feature entries, JsSIP only in phone/jssip, no Node or Electron in shared/ and renderer/)', 'npx', ['eslint', '--max-warnings', '0', '.']],
  ['unit tests', 'npx', vitest('unit')],
  ['build', 'node', ['scripts/build.mjs']],
  ['integration tests', 'npx', vitest('integration')],
  ['end-to-end tests', 'npx', vitest('e2e')],
  ['interop tests', 'npx', vitest('interop')],
];

function totals() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const project of ['unit', 'integration', 'e2e', 'interop']) {
    const file = join(reports, `${project}.json`);
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
  return { passed, failed, skipped };
}

const only = process.argv[2];
let exitCode = 0;
for (const [name, command, args] of steps) {
  if (only && !name.startsWith(only)) continue;
  process.stdout.write(`\n▶ ${name}\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stdout.write(`\n✖ ${name} failed after ${seconds} s (exit ${result.status ?? result.signal})\n`);
    exitCode = result.status ?? 1;
    break;
  }
  process.stdout.write(`✔ ${name} (${seconds} s)\n`);
}
const { passed, failed, skipped } = totals();
rmSync(reports, { recursive: true, force: true });
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(exitCode);
