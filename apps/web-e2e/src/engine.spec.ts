import { VIEWER } from './fixtures/accounts';
import { engineFact } from './fixtures/engine-panel';
import { expect, signIn, test } from './fixtures/test';

// A node with a live engine: run-e2e.ts runs the real agent on b200-node-01, which loaded its cluster's
// deployment and started the engine (the reference endpoint in vLLM's dialect) from the cluster's template.
// The node page shows what the engine itself reports, and its KV cache (vLLM's num_gpu_blocks × block_size, which the
// stand-in computes at load as vLLM's memory profiling does) beside the capacity planner's estimate for this node,
// artifact and context.
const CLUSTER = 'pro-b200-vllm';
const HOST = 'b200-node-01';

test('the node page shows the running engine, what it serves and its KV capacity against the planner', async ({ page }, testInfo) => {
  await signIn(page, VIEWER);
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: CLUSTER }).click();
  await page.getByRole('link', { name: HOST }).first().click();
  await expect(page).toHaveURL(/\/nodes\/[a-z0-9]+$/);

  await expect(engineFact(page, 'State')).toHaveText('ready');
  await expect(engineFact(page, 'Engine')).toHaveText(/^vLLM /);
  await expect(engineFact(page, 'Serving')).toHaveText(/^deepseek-ai\/DeepSeek-V4-Pro@[0-9a-f]{7,12} FP4\+FP8 \([0-9a-f]{12}\)$/);
  await expect(page.getByTestId('engine-panel').getByTestId('drift-badge')).toHaveText('serves desired');
  await expect(engineFact(page, 'Endpoint')).toHaveText(/^http:\/\/127\.0\.0\.1:\d+$/);

  const kv = page.getByTestId('kv-capacity');
  await expect(kv).toContainText('KV cache capacity');
  await expect(kv).toContainText(/Engine[\d,]+ tokens [\d,]+ blocks × \d+/);
  await expect(kv).toContainText(/Planner[\d,]+ tokens estimate for this node, artifact and context/);
  await expect(kv).toContainText(/[\d,]+ blocks × 256, fp8/);
  await expect(page.getByTestId('kv-capacity-error')).toHaveText(/^[+−]\d+\.\d %/);
  // The engine sized its cache the way vLLM does, from the artifact's config.json and size, its flags (TP 8, FP8,
  // 256-token blocks) and the node's eight B200s; the planner, written separately, lands within 15 % of it (the
  // stand-in's fixed 65,536 x 16 put it about 495 % off).
  const error = Number(/^[+−](\d+\.\d) %/.exec((await page.getByTestId('kv-capacity-error').textContent()) ?? '')?.[1]);
  expect(error).toBeLessThan(15);
  await page.screenshot({ path: testInfo.outputPath('node-engine.png'), fullPage: true });
});
