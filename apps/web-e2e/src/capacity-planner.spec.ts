import { VIEWER } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('a viewer plans the demo FP4+FP8 Flash on the H200 cluster, then on a B200, and copies the launch command', async ({
  page,
  context,
}, testInfo) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, VIEWER);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Planner' }).click();
  await expect(page.getByRole('heading', { name: 'Capacity planner' })).toBeVisible();

  // The seeded native checkpoint (about 160 GB); the worker may add small pipeline-built ones beside it.
  const artifact = await page
    .locator('#plan-artifact option', { hasText: /^deepseek-ai\/DeepSeek-V4-Flash@\w+ · FP4\+FP8 \(1\d\d GB\)$/ })
    .getAttribute('value');
  await page.getByLabel('Artifact').selectOption(artifact!);
  await page.getByLabel('Run on').selectOption('cluster');
  const cluster = await page.locator('#plan-cluster option', { hasText: 'flash-h200-sglang' }).getAttribute('value');
  await page.getByLabel('Cluster').selectOption(cluster!);
  await page.getByLabel('Context per sequence (tokens)').fill('32768');
  await page.getByLabel('Concurrent sequences').fill('4');
  await page.getByRole('button', { name: 'Plan' }).click();

  // The native checkpoint (about 160 GB) does not fit one H200, and SGLang 0.5.4 predates the
  // Hopper kernels for V4's FP4 experts: the verdict says so, with its source.
  const result = page.getByTestId('plan-result');
  await expect(result.getByTestId('fit-badge')).toHaveText('does not fit');
  await expect(result.getByTestId('limiting-factor')).toHaveText('weights');
  const fp4 = result.locator('[data-rule="fp4_experts"]');
  await expect(fp4).toHaveAttribute('data-status', 'fail');
  await expect(fp4).toContainText('predates 0.5.12');
  await expect(fp4).toContainText('Source: sgl-project/sglang');
  await expect(result.getByTestId('launch-command')).toContainText('python -m sglang.launch_server');
  await expect(result.getByTestId('launch-command')).toContainText('--moe-runner-backend marlin');
  await page.screenshot({ path: testInfo.outputPath('planner-h200.png'), fullPage: true });

  // The same artifact on one B200 with vLLM 0.25.0: fits, natively on FP4 tensor cores.
  await page.getByLabel('Run on').selectOption('gpu');
  await page.getByLabel('GPU', { exact: true }).selectOption('NVIDIA B200');
  await page.getByLabel('GPUs', { exact: true }).fill('1');
  await page.getByLabel('Engine', { exact: true }).selectOption('vllm');
  await page.getByLabel('Engine version').fill('0.25.0');
  await page.getByRole('button', { name: 'Plan' }).click();
  await expect(result.getByTestId('fit-badge')).toHaveText('fits');
  await expect(result.locator('[data-rule="fp4_experts"]')).toHaveAttribute('data-status', 'pass');
  await expect(result.getByTestId('kv-capacity')).toContainText('tokens');
  const command = result.getByTestId('launch-command');
  await expect(command).toContainText('vllm serve');
  await expect(command).toContainText('--max-model-len 32768');
  await expect(command).toContainText('--trust-remote-code');
  await result.getByRole('button', { name: 'Copy' }).click();
  await expect(result.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('vllm serve');
  await page.screenshot({ path: testInfo.outputPath('planner-b200.png'), fullPage: true });

  // A context above the model's maximum is refused with a plain message.
  await page.getByLabel('Context per sequence (tokens)').fill('2000000');
  await page.getByRole('button', { name: 'Plan' }).click();
  await expect(result.getByRole('alert')).toContainText("above the model's maximum of 1048576");
});

test('the cluster and revision pages show compatibility verdicts', async ({ page }) => {
  await signIn(page, VIEWER);
  await page.goto('/clusters');
  await page.getByRole('link', { name: 'flash-h200-sglang' }).click();
  const card = page.getByTestId('cluster-compatibility');
  await expect(card.getByTestId('compat-pair')).toHaveCount(1);
  await expect(card.getByTestId('compat-pair')).toContainText('incompatible');
  await card.getByTestId('compat-pair').locator('summary').click();
  await expect(card.locator('[data-rule="fp4_experts"]')).toHaveAttribute('data-status', 'fail');
});
