import {
  ZBaselineGate,
  ZValidationSuite,
  type TBaselineGate,
  type TValidationSuite,
  type TValidationSuiteInput,
} from '@fleetplane/contracts';
import { EXACT_ANSWER_TASKS } from './exact-answer-tasks';
import { REASONING_PROMPTS } from './reasoning-prompts';
import { TOOL_CASES } from './tool-cases';

/**
 * The two built-in suites, as data. Thresholds here are defaults meant to be edited per fleet
 * (a new suite version keeps old runs comparable to their own definition).
 */

const smoke: TValidationSuiteInput = {
  name: 'smoke',
  version: 1,
  description:
    'A few minutes against a real server: the endpoint answers, a sample of exact answers, 8K needle retrieval, tool calls, reasoning modes and a short load test.',
  checks: [
    { key: 'endpoint', kind: 'endpoint', title: 'Endpoint, model name, health and engine version' },
    {
      key: 'exact-answers',
      kind: 'exact_answer',
      title: 'Exact answers (10 tasks)',
      params: {
        taskIds: [
          'arith-mul',
          'arith-percent',
          'arith-decimal',
          'unit-miles-km',
          'unit-f-c',
          'extract-order-total',
          'extract-notes-dns',
          'code-fib',
          'code-reverse',
          'code-increments',
        ],
      },
      thresholds: { minAccuracy: 0.9 },
    },
    {
      key: 'long-context',
      kind: 'long_context',
      title: 'Needle retrieval at 8K',
      params: { contextLengths: [8192], depths: [0, 0.5, 1] },
      thresholds: { minScore: 1, mode: 'every_cell' },
    },
    {
      key: 'tool-calling',
      kind: 'tool_calling',
      title: 'Tool calls, streaming and not',
      params: { caseIds: ['tool-weather-paris', 'tool-calendar'], modes: ['non_stream', 'stream'] },
      thresholds: { minPassRate: 1 },
    },
    {
      key: 'reasoning-modes',
      kind: 'reasoning_modes',
      title: 'Thinking and non-thinking modes',
      params: { promptIds: ['reason-youngest', 'reason-bat-ball', 'reason-widgets'] },
      thresholds: { minAccuracy: 1 },
    },
    {
      key: 'performance',
      kind: 'performance',
      title: 'Short load test at concurrency 1 and 4',
      params: { concurrencyLevels: [1, 4], inputTokens: 512, outputTokens: 128, requestsPerLevel: 8 },
      thresholds: { maxErrorRate: 0, maxTtftP99Ms: 10_000 },
    },
  ],
};

const releaseGate: TValidationSuiteInput = {
  name: 'release-gate',
  version: 1,
  description:
    'Thorough gate before an upgrade: every exact-answer task with repeats for noise, needle retrieval from 8K up to the cluster maximum at five depths, every tool case, both reasoning modes, and load at concurrency 1/8/32/64 with goodput SLOs.',
  checks: [
    { key: 'endpoint', kind: 'endpoint', title: 'Endpoint, model name, health and engine version' },
    {
      key: 'exact-answers',
      kind: 'exact_answer',
      title: `Exact answers (${EXACT_ANSWER_TASKS.length} tasks × 3 repeats)`,
      params: { repeats: 3 },
      thresholds: { minAccuracy: 0.95 },
    },
    {
      key: 'long-context',
      kind: 'long_context',
      title: 'Needle retrieval 8K, 32K, 128K and the cluster maximum',
      params: { contextLengths: [8192, 32768, 131072, 'max'], depths: [0, 0.25, 0.5, 0.75, 1], repeats: 2 },
      thresholds: { minScore: 0.5, mode: 'every_cell' },
    },
    {
      key: 'tool-calling',
      kind: 'tool_calling',
      title: `Tool calls (${TOOL_CASES.length} cases), streaming and not`,
      params: { modes: ['non_stream', 'stream'], repeats: 2 },
      thresholds: { minPassRate: 0.95 },
    },
    {
      key: 'reasoning-modes',
      kind: 'reasoning_modes',
      title: `Thinking and non-thinking modes (${REASONING_PROMPTS.length} prompts)`,
      params: { modes: ['non_thinking', 'thinking'] },
      thresholds: { minAccuracy: 0.9 },
    },
    {
      key: 'performance',
      kind: 'performance',
      title: 'Load at concurrency 1, 8, 32 and 64',
      params: {
        concurrencyLevels: [1, 8, 32, 64],
        inputTokens: 1024,
        outputTokens: 256,
        requestsPerSlot: 4,
        percentiles: [50, 90, 99],
        slos: { ttftMs: 2000, tpotMs: 100 },
      },
      thresholds: { maxErrorRate: 0.01, minGoodputRatio: 0.9, maxTtftP99Ms: 5000, maxTpotP99Ms: 150 },
    },
  ],
};

export const BUILTIN_SUITES: readonly TValidationSuite[] = [smoke, releaseGate].map((s) => ZValidationSuite.parse(s));

export function builtinSuite(name: string): TValidationSuite | undefined {
  return BUILTIN_SUITES.find((s) => s.name === name);
}

/** Candidate-vs-baseline gates for the release gate (metric paths follow each check's metrics). */
export const DEFAULT_BASELINE_GATES: readonly TBaselineGate[] = [
  {
    label: 'Exact-answer accuracy',
    checkKey: 'exact-answers',
    metric: 'accuracy',
    better: 'higher',
    maxRegressionAbs: 0.01,
    noiseMetric: 'repeatAccuracies',
    noiseK: 2,
    unit: 'ratio',
  },
  { label: 'Needle retrieval', checkKey: 'long-context', metric: 'overallScore', better: 'higher', maxRegressionAbs: 0.05, unit: 'ratio' },
  { label: 'Tool-call pass rate', checkKey: 'tool-calling', metric: 'passRate', better: 'higher', maxRegressionAbs: 0.02, unit: 'ratio' },
  { label: 'Reasoning accuracy', checkKey: 'reasoning-modes', metric: 'accuracy', better: 'higher', maxRegressionAbs: 0.05, unit: 'ratio' },
  {
    label: 'TTFT p99 at concurrency {*}',
    checkKey: 'performance',
    metric: 'levels.*.ttftMs.p99',
    better: 'lower',
    maxRegressionPct: 10,
    unit: 'ms',
  },
  {
    label: 'TPOT p99 at concurrency {*}',
    checkKey: 'performance',
    metric: 'levels.*.tpotMs.p99',
    better: 'lower',
    maxRegressionPct: 10,
    unit: 'ms',
  },
  {
    label: 'Output throughput at concurrency {*}',
    checkKey: 'performance',
    metric: 'levels.*.outputThroughput',
    better: 'higher',
    maxRegressionPct: 10,
    unit: 'tok/s',
  },
].map((g) => ZBaselineGate.parse(g));
