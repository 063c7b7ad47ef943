import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

// run-e2e.ts points flash-h100-vllm at a fast reference endpoint, so smoke finishes in seconds.
test('an operator starts the smoke suite from the dashboard and sees results, charts and evidence', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, OPERATOR);
  await page.getByRole('link', { name: 'Validation' }).click();
  await expect(page.getByRole('heading', { name: 'Validation' })).toBeVisible();

  await page.getByRole('button', { name: 'Start validation run' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Cluster').selectOption({ label: 'flash-h100-vllm' });
  await dialog.getByLabel('Suite').selectOption('smoke');
  // No baseline: the stand-in answers in ~2 ms, so an earlier spec's run on a quieter moment of this shared box
  // fails the +10 % / +2 ms gate on jitter alone. Baseline gating is tested in the validation services tests.
  await dialog.getByLabel('Baseline').selectOption({ label: 'No baseline' });
  await dialog.getByRole('button', { name: 'Start run' }).click();

  await expect(page).toHaveURL(/\/validation\/[a-z0-9]+$/);
  await expect(page.getByRole('heading', { name: 'smoke v1 on flash-h100-vllm' })).toBeVisible();
  // Live progress until the worker seals the run.
  await expect(page.getByTestId('run-status').getByTestId('verdict')).toHaveText('pass', { timeout: 90_000 });
  await expect(page.getByTestId('run-summary')).toContainText('Pass: all 6 required checks passed.');
  for (const key of ['endpoint', 'exact-answers', 'long-context', 'tool-calling', 'reasoning-modes', 'performance']) {
    await expect(page.getByTestId(`check-${key}`).getByTestId('verdict')).toHaveText('pass');
  }
  await page.getByTestId('check-performance').getByRole('button', { name: 'Why' }).click();
  await expect(page.getByTestId('explanation-performance')).toContainText('Concurrency 4');

  await expect(page.getByTestId('latency-chart').locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(page.getByTestId('throughput-chart').locator('.recharts-line')).toHaveCount(2);
  await expect(page.getByTestId('retrieval-heatmap').getByRole('cell', { name: '100%' })).toHaveCount(3);
  await expect(page.getByTestId('evidence-digest')).toHaveText(/^sha256:[0-9a-f]{64}$/);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download evidence bundle' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^validation-.*-evidence\.json$/);

  // The run is listed with its verdict (a full load: the server render must hydrate cleanly).
  await page.goto('/validation');
  await expect(page.getByTestId('validation-runs-table').getByTestId('verdict').first()).toHaveText('pass');
});
