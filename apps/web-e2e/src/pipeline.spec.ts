import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

// run-e2e.ts starts the fake Hub (HF_ENDPOINT) with webhooks to the web app and FLEETPLANE_DEMO=true.
test('an operator publishes an upstream revision in the dev panel and downloads it through a pipeline run', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, OPERATOR);
  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByRole('heading', { name: 'Models', exact: true })).toBeVisible();

  const panel = page.getByTestId('dev-panel');
  await panel.getByLabel('Upstream repo').selectOption({ label: 'deepseek-ai/DeepSeek-V4-Flash@main' });
  await panel.getByRole('button', { name: 'Publish new weights' }).click();

  // The Hub's webhook triggers a check; the new commit shows up as a weights revision.
  const revisions = page.getByTestId('revisions');
  const row = revisions.getByRole('row').filter({ hasText: 'Upload model-' }).first();
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(row.getByTestId('change-class')).toHaveText('weights');
  await row.getByRole('link').first().click();

  await expect(page.getByTestId('manifest')).toBeVisible();
  await page.getByRole('button', { name: 'Start pipeline' }).click();
  await expect(page).toHaveURL(/\/pipelines\/[a-z0-9]+$/);
  await expect(page.getByTestId('stage-quantise')).toContainText('not available yet');
  await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('run-summary')).toHaveText('Download verified. Quantise and validate stages are not available yet; the run stops here.');
  await expect(page.getByTestId('download-progress').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('progress-bytes')).toContainText('(100%)');
  await expect(page.getByTestId('step-logs')).toContainText('Verified');
  await expect(page.getByTestId('artifacts')).toContainText('safetensors');

  // The run is listed.
  await page.getByRole('link', { name: 'Pipelines' }).click();
  await expect(page.getByTestId('pipeline-runs').getByTestId('run-state').first()).toHaveText('succeeded');
});
