// `npm test`: every check, in order (the interop tests beside the integration tests), stopping at the first that
// fails. Exit codes pass through unchanged.
// Each Vitest project also writes a JSON report, so the run ends with one line counting every test.
import { spawn } from 'node:child_process';
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
  ['integration tests', 'npx', vitest('integration'), { alongside: ['interop tests', 'npx', vitest('interop')] }],
  ['end-to-end tests', 'npx', vitest('e2e')],
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

/**
 * Runs a step in the background, its output kept and printed when it is over (not mixed into the step it runs
 * beside): the interop tests, which wait on SIP peers and timers, beside the integration tests, which mostly wait too.
 */
function startAlongside(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk));
  child.stderr.on('data', (chunk) => output.push(chunk));
  const started = Date.now();
  return new Promise((resolve) => {
    child.on('close', (status, signal) => resolve({ status, signal, output: Buffer.concat(output), seconds: ((Date.now() - started) / 1000).toFixed(1) }));
  });
}

const only = process.argv[2];
let exitCode = 0;
for (const [name, command, args, options] of steps) {
  const beside = options?.alongside;
  const runHere = !only || name.startsWith(only);
  const runBeside = beside && (!only || beside[0].startsWith(only));
  if (!runHere && !runBeside) continue;
  const besideRun = runBeside ? startAlongside(beside[1], beside[2]) : undefined;
  if (besideRun) process.stdout.write(`\n▶ ${beside[0]} (beside ${name}; its output follows when it is over)\n`);
  if (runHere) {
    process.stdout.write(`\n▶ ${name}\n`);
    const started = Date.now();
    // Not spawnSync: the event loop must stay free to read what the step beside this one prints, or that step
    // stalls once its pipe is full.
    const result = await new Promise((resolve) => {
      spawn(command, args, { stdio: 'inherit' }).on('close', (status, signal) => resolve({ status, signal }));
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status !== 0) {
      process.stdout.write(`\n✖ ${name} failed after ${seconds} s (exit ${result.status ?? result.signal})\n`);
      exitCode = result.status ?? 1;
    } else process.stdout.write(`✔ ${name} (${seconds} s)\n`);
  }
  if (besideRun) {
    const result = await besideRun;
    process.stdout.write(`\n▶ ${beside[0]}: its output\n`);
    process.stdout.write(result.output);
    if (result.status !== 0) {
      process.stdout.write(`\n✖ ${beside[0]} failed after ${result.seconds} s (exit ${result.status ?? result.signal})\n`);
      exitCode ||= result.status ?? 1;
    } else process.stdout.write(`✔ ${beside[0]} (${result.seconds} s)\n`);
  }
  if (exitCode !== 0) break;
}
const { passed, failed, skipped } = totals();
rmSync(reports, { recursive: true, force: true });
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(exitCode);
