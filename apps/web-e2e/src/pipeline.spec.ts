import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

// run-e2e.ts starts the fake Hub (HF_ENDPOINT, also in this process's environment) with webhooks to the
// web app and FLEETPLANE_DEMO=true. The seeded deepseek-ai/DeepSeek-V4-Flash repo starts pipelines
// automatically for clusters flash-h100-vllm and lab-rtx5090-llamacpp; sgl-project/DeepSeek-V4-Flash-FP8 waits
// for an operator.
const hubUrl = () => {
  const url = process.env.HF_ENDPOINT;
  if (!url) throw new Error('HF_ENDPOINT is not set: run the suite through run-e2e.ts');
  return url;
};

test('publishing a revision of an auto-start repo leads, with no other action, to a verified download shown live', async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  // Slow the Hub's CDN to ~100 kB/s so the download is still running when the run page opens.
  const slow = await request.put(`${hubUrl()}/_fake/faults`, {
    data: { bandwidthBytesPerSec: { bytesPerSec: 100_000, path: '/_cdn/**' } },
  });
  expect(slow.ok()).toBe(true);
  try {
    await signIn(page, OPERATOR);
    await page.getByRole('link', { name: 'Models' }).click();
    await expect(page.getByRole('heading', { name: 'Models', exact: true })).toBeVisible();
    // The seeded history is the demo hub's own: a new user's first screen lists its commits as they
    // are, with no "history rewritten" revision across a made-up gap.
    await expect(
      page.getByTestId('revisions').getByRole('row').filter({ hasText: 'deepseek-ai/DeepSeek-V4-Flash @' }).first(),
    ).toBeVisible();
    await expect(page.getByTestId('revisions').getByTestId('history-rewritten')).toHaveCount(0);

    const panel = page.getByTestId('dev-panel');
    await panel.getByLabel('Upstream repo').selectOption({ label: 'deepseek-ai/DeepSeek-V4-Flash@main' });
    await panel.getByRole('button', { name: 'Publish new weights' }).click();

    // The Hub's webhook triggers a check; the new commit shows up as a weights revision...
    const row = page
      .getByTestId('revisions')
      .getByRole('row')
      .filter({ hasText: 'Upload model-' })
      .filter({ hasText: 'deepseek-ai/DeepSeek-V4-Flash @' })
      .first();
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.getByTestId('change-class')).toHaveText('weights');
    // ...and the repo's policy starts its run: nobody clicks "Start pipeline".
    const runBadge = row.getByTestId('run-state');
    await expect(runBadge).toBeVisible({ timeout: 30_000 });
    await runBadge.click();

    await expect(page).toHaveURL(/\/pipelines\/[a-z0-9]+$/);
    // The repo's auto-start policy names the cluster: the run downloads into its store under its limits.
    await expect(page.getByText(/auto run for cluster (flash-h100-vllm|lab-rtx5090-llamacpp)/)).toBeVisible();
    // The plan is drawn from the start: the cluster's recipes and their validate steps wait for the download.
    await expect(page.getByTestId('stage-quantise')).toContainText(/fp8-block128|gguf-q8_0/);
    // Live progress while the bytes arrive: state running, a percentage below 100, a rate.
    await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('running', { timeout: 30_000 });
    await expect(page.getByTestId('progress-bytes')).toHaveText(/\((\d|[1-9]\d)%\)$/);
    await expect(page.getByTestId('download-progress')).toContainText(/\/s/);
  } finally {
    await request.delete(`${hubUrl()}/_fake/faults`);
  }

  await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('succeeded', { timeout: 120_000 });
  await expect(page.getByTestId('run-summary')).toContainText('Download verified; built ');
  await expect(page.getByTestId('download-progress').getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('progress-bytes')).toContainText('(100%)');
  await expect(page.getByTestId('step-card-download-default').getByTestId('step-logs')).toContainText('Verified');
  // Which run the badge opens depends on the order the two auto-start runs were created in: the H100
  // cluster's lists the FP8 safetensors build, the RTX 5090 one its GGUF builds.
  await expect(page.getByTestId('artifacts')).toContainText(/safetensors|gguf/);

  // Exactly one run per target cluster for the revision, however many triggers (webhook, schedule) saw the commit.
  await page.getByRole('link', { name: 'Models' }).click();
  const row = page
    .getByTestId('revisions')
    .getByRole('row')
    .filter({ hasText: 'Upload model-' })
    .filter({ hasText: 'deepseek-ai/DeepSeek-V4-Flash @' })
    .first();
  await row.getByRole('link').first().click();
  await expect(page.getByTestId('manifest')).toBeVisible();
  await expect(page.getByRole('link', { name: 'View pipeline run' })).toBeVisible();
  await expect(page.getByTestId('revision-runs').getByRole('link')).toHaveCount(2);
});

test('a repo without the auto policy waits for an operator, who starts the run for a cluster with download limits', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, OPERATOR);

  // The cluster's download limits, set in the inventory form (bad values are refused on the field).
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: 'flash-h100-vllm' }).click();
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  const form = page.getByRole('form', { name: 'Cluster form' });
  await form.getByLabel('Download files at once').fill('0');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(form.getByText('At least 1 file at once')).toBeVisible();
  await form.getByLabel('Download files at once').fill('2');
  await form.getByLabel('Download bandwidth (Mbit/s)').fill('800');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(page.getByText('2 files at once, 800 Mbit/s')).toBeVisible();

  await page.getByRole('link', { name: 'Models' }).click();
  const panel = page.getByTestId('dev-panel');
  await panel.getByLabel('Upstream repo').selectOption({ label: 'sgl-project/DeepSeek-V4-Flash-FP8@main' });
  await panel.getByRole('button', { name: 'Publish new weights' }).click();

  const row = page
    .getByTestId('revisions')
    .getByRole('row')
    .filter({ hasText: 'Upload model-' })
    .filter({ hasText: 'sgl-project/DeepSeek-V4-Flash-FP8 @' })
    .first();
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(row.getByTestId('change-class')).toHaveText('weights');
  await row.getByRole('link').first().click();

  await expect(page.getByTestId('manifest')).toBeVisible();
  await page.getByLabel('Pipeline target').selectOption({ label: 'cluster flash-h100-vllm' });
  await page.getByRole('button', { name: 'Start pipeline' }).click();
  await expect(page).toHaveURL(/\/pipelines\/[a-z0-9]+$/);
  await expect(page.getByText(/manual run for cluster flash-h100-vllm/)).toBeVisible();
  await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('progress-bytes')).toContainText('(100%)');
  // The download step's own log (the quantise step that follows has one too).
  await expect(page.getByTestId('step-card-download-default').getByTestId('step-logs')).toContainText(
    'Cluster flash-h100-vllm download limits: at most 2 files at once, 800 Mbit/s',
  );

  await page.getByRole('link', { name: 'Pipelines' }).click();
  await expect(page.getByTestId('pipeline-runs').getByTestId('run-state').first()).toHaveText('succeeded');
});
