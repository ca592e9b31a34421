/**
 * Answering-rule evaluation per call (issue #17: target under 1 ms with 50 rules and 50 time frames).
 *
 * The worst case for the scan: 50 weekly frames of several ranges each, 50 rules of distinct priorities, and
 * moments spread over a year in a zone with daylight saving, most of which match only a low-priority rule or
 * none, so most evaluations walk every rule. Timed per batch of evaluations, the median of the batches given.
 */
import { performance } from 'node:perf_hooks';
import { AnsweringRuleInput, TimeFrameSpec, WEEKDAYS } from '../shared/answering-rules';
import type { AnsweringRule, TimeFrame } from '../shared/answering-rules';
import { CompiledAnsweringRules } from '../server/routing/answering-rules';

export const RULE_EVALUATION_TARGET_MS = 1;

export interface RuleEvaluationFigures {
  rules: number;
  timeFrames: number;
  evaluations: number;
  firstCompileMs: number;
  compileMs: number;
  medianMsPerEvaluation: number;
  targetMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function ruleEvaluationBench(count = 50, batches = 50, perBatch = 2000): RuleEvaluationFigures {
  const frames: TimeFrame[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    name: `frame ${i + 1}`,
    scope: 'user',
    spec: TimeFrameSpec.parse({
      type: 'weekly',
      // Short ranges late in the week, so most moments match none of them.
      ranges: Array.from({ length: 5 }, (_, r) => ({ days: [WEEKDAYS[(i + r) % 7]], start: `${pad((i + r) % 23)}:00`, end: `${pad((i + r) % 23)}:10` })),
    }),
  }));
  const rules: AnsweringRule[] = frames.map((frame, i) => ({
    id: i + 1,
    ...AnsweringRuleInput.parse({ name: `rule ${i + 1}`, timeFrameId: frame.id, priority: i + 1, action: { type: 'forward', to: { type: 'voicemail' } } }),
  }));
  // The first compile in a zone also builds its Intl formatter (ICU's zone data, once per process); timed apart.
  const firstStart = performance.now();
  new CompiledAnsweringRules(rules, frames, 'America/New_York');
  const firstCompileMs = performance.now() - firstStart;
  const compileStart = performance.now();
  const compiled = new CompiledAnsweringRules(rules, frames, 'America/New_York');
  const compileMs = performance.now() - compileStart;

  const start = Date.parse('2026-01-01T00:00:00Z');
  const year = 365 * 24 * 3600 * 1000;
  const moments = Array.from({ length: perBatch }, (_, i) => start + Math.floor((i * 7919 * 60_000) % year));
  let matched = 0;
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (const moment of moments) if (compiled.decide(moment).rule) matched++;
    times.push((performance.now() - t0) / perBatch);
  }
  if (matched < 0) throw new Error('unreachable: keeps the loop from being optimized away');
  return { rules: rules.length, timeFrames: frames.length, evaluations: batches * perBatch, firstCompileMs, compileMs, medianMsPerEvaluation: median(times), targetMs: RULE_EVALUATION_TARGET_MS };
}
