import { E2E_ADMIN } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('a wrong password is refused with a clear message', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Email or password is incorrect' })).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in/);
});

test('pages need a session', async ({ page }) => {
  await page.goto('/clusters');
  await expect(page).toHaveURL(/\/sign-in/);
});

test('the admin signs in and sees the demo fleet', async ({ page }) => {
  await signIn(page, E2E_ADMIN);
  await expect(page.getByRole('heading', { name: 'Fleet overview' })).toBeVisible();
  const table = page.getByTestId('clusters-table');
  for (const name of ['flash-h100-vllm', 'flash-h200-sglang', 'pro-b200-vllm', 'lab-rtx5090-llamacpp']) {
    await expect(table.getByRole('link', { name })).toBeVisible();
  }
  await expect(table).toContainText('DeepSeek-V4-Flash-FP8');
  // Other specs may have enrolled nodes or added clusters already: the seed is the floor.
  await expect(page.getByTestId('stat-gpus')).toBeVisible();
  const statValue = async (id: string) => Number(/(\d+)/.exec((await page.getByTestId(id).locator('p').nth(1).textContent()) ?? '')?.[1]);
  // 8 (H100) + 1 (H200) + 2 × 8 (B200) + 4 (RTX 5090).
  expect(await statValue('stat-gpus')).toBeGreaterThanOrEqual(29);
  expect(await statValue('stat-clusters')).toBeGreaterThanOrEqual(4);

  // Sorting happens on the server: GPUs descending puts the 8-GPU clusters first.
  const gpusHeader = table.getByRole('columnheader', { name: 'GPUs' });
  await gpusHeader.getByRole('button').click();
  if ((await gpusHeader.getAttribute('aria-sort')) !== 'descending') await gpusHeader.getByRole('button').click();
  await expect(gpusHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(table.locator('tbody tr').first()).toContainText(/flash-h100-vllm|pro-b200-vllm/);
  await expect(table.locator('tbody tr').last()).toContainText('flash-h200-sglang');
});
