import type { Page } from '@playwright/test';
import { OPERATOR } from './fixtures/accounts';
import { engineFact } from './fixtures/engine-panel';
import { approveBySecondPerson, proposeOnFreshEvidence, startRollout } from './fixtures/proposal-flow';
import { expect, signIn, test } from './fixtures/test';

// Issue 15 item 7 on live engines: run-e2e.ts runs the real agent on b200-node-01, whose engine (the reference
// endpoint in vLLM's dialect) serves pro-b200-vllm's deployment and whose /metrics the agent scrapes; the cluster's
// policy checks twice, 12 s apart, with TTFT p99 capped at 1.5 s. The spec is the cluster's only client, so it
// sends the canary traffic itself (a canary without traffic is inconclusive and pauses, decision 26), over
// loopback to the engine endpoint the node page shows. A one-node cluster's canary is the whole cluster: no waves.
const CLUSTER = 'pro-b200-vllm';
const HOST = 'b200-node-01';
const MODEL = 'deepseek-ai/DeepSeek-V4-Pro';
/** Past the cluster's 1.5 s TTFT p99 cap on any box, and short enough that requests finish inside a 12 s check. */
const DEGRADED_TTFT_MS = 3000;

/** Chat requests, a few at a time, until stopped: the canary's traffic. */
function driveTraffic(engineUrl: string, concurrency = 3): { stop: () => Promise<number> } {
  let stopped = false;
  let finished = 0;
  const worker = async () => {
    while (!stopped) {
      const res = await fetch(`${engineUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Say hello.' }] }),
      }).catch(() => null);
      if (res) {
        await res.arrayBuffer();
        finished += 1;
      } else await new Promise((r) => setTimeout(r, 250));
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return finished;
    },
  };
}

async function setDegradations(engineUrl: string, body: object | null): Promise<void> {
  const res = await fetch(`${engineUrl}/_ref/degradations`, {
    method: body ? 'PUT' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`degrading ${engineUrl}: HTTP ${res.status} ${await res.text()}`);
}

async function openNode(page: Page): Promise<void> {
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: CLUSTER }).click();
  await page.getByRole('link', { name: HOST }).first().click();
  await expect(page).toHaveURL(/\/nodes\/[a-z0-9]+$/);
}

/** Every state the rollout page's badge shows until it reaches `final` (the page polls every 2 s). */
async function statesUntil(page: Page, final: string, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  await expect
    .poll(
      async () => {
        const s = (await page.getByTestId('rollout-state').first().textContent())?.trim() ?? '';
        if (s && seen.at(-1) !== s) seen.push(s);
        return s;
      },
      { timeout: timeoutMs, intervals: [500] },
    )
    .toBe(final);
  return seen;
}

test('live engines: a second person approves, the canary rolls out and passes; a degraded canary rolls itself back', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page, OPERATOR);
  await openNode(page);
  await expect(engineFact(page, 'State')).toHaveText('ready');
  const servedBefore = (await engineFact(page, 'Serving').textContent())!.trim();
  const engineUrl = (await engineFact(page, 'Endpoint').textContent())!.trim();
  expect(engineUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const traffic = driveTraffic(engineUrl);
  try {
    // 1. Proposal -> the requester cannot approve -> a second person approves -> the operator rolls out.
    const proposalUrl = await proposeOnFreshEvidence(page, CLUSTER);
    await approveBySecondPerson(page, proposalUrl);
    await startRollout(page);
    await expect(page.getByTestId('stage-view').getByRole('region', { name: 'Canary' }).getByTestId(`rollout-node-${HOST}`)).toBeVisible();
    // The analysis window is on screen while it runs: the first check with its measured values and charts.
    await expect(page.getByTestId('analysis-0-1')).toContainText('passed', { timeout: 90_000 });
    await expect(page.getByRole('figure', { name: 'TTFT p99 per check against its threshold' })).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('rollout-live-analysing.png'), fullPage: true });
    const seen = await statesUntil(page, 'succeeded', 90_000);
    testInfo.annotations.push({ type: 'states seen', description: seen.join(' -> ') });
    await expect(page.getByTestId('analysis-0-2')).toContainText('passed');
    await expect(page.getByTestId(`rollout-node-${HOST}`)).toContainText('serving');
    await page.screenshot({ path: testInfo.outputPath('rollout-live-succeeded.png'), fullPage: true });

    // The node page: the rolled-out artifact is what the agent reports its engine serving.
    await openNode(page);
    await expect(engineFact(page, 'Serving')).toHaveText(servedBefore);
    await expect(page.getByTestId('engine-panel').getByTestId('drift-badge')).toHaveText('serves desired');

    // 2. The next rollout's canary gets slow (the engine's own admin route, as a demo user would degrade it).
    await setDegradations(engineUrl, { addedLatencyMs: DEGRADED_TTFT_MS });
    const second = await proposeOnFreshEvidence(page, CLUSTER);
    await approveBySecondPerson(page, second);
    await startRollout(page);
    const seenBad = await statesUntil(page, 'rolled back', 120_000);
    testInfo.annotations.push({ type: 'states seen (degraded)', description: seenBad.join(' -> ') });
    await expect(page.getByTestId('rollout-reason')).toContainText('canary analysis failed');
    await expect(page.getByTestId('rollout-reason')).toContainText('TTFT p99');
    const failedCheck = page.getByTestId('analysis-0-1');
    await expect(failedCheck).toContainText('failed');
    await expect(failedCheck).toContainText(/TTFT p99 [\d.]+ s > limit 1\.5 s/);
    await expect(page.getByText(/^Analysis failed: Canary check 1: TTFT p99/)).toBeVisible();
    await expect(page.getByTestId(`rollout-node-${HOST}`)).toContainText('rolled back');
    await page.screenshot({ path: testInfo.outputPath('rollout-live-rolled-back.png'), fullPage: true });

    await openNode(page);
    await expect(engineFact(page, 'Serving')).toHaveText(servedBefore);
  } finally {
    await setDegradations(engineUrl, null);
    const finished = await traffic.stop();
    testInfo.annotations.push({ type: 'canary requests', description: String(finished) });
  }
});
