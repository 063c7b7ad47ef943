// The capacity catalogs in the browser: a viewer reads them without edit controls; an admin changes the
// Flash API price and adds a GPU, with bad input refused in the form, and finds the change audited.
import { E2E_ADMIN, VIEWER } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('a viewer reads the catalogs without edit controls', async ({ page }) => {
  await signIn(page, VIEWER);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalogs' }).click();
  await expect(page.getByRole('heading', { name: 'Catalogs' })).toBeVisible();
  await expect(page.getByTestId('catalog-gpus').getByText('NVIDIA H100 80GB HBM3')).toBeVisible();
  await expect(page.getByTestId('catalog-engines').getByText('vLLM', { exact: true })).toBeVisible();
  await expect(page.getByTestId('catalog-api-prices').getByText('deepseek-v4-flash')).toBeVisible();
  await expect(page.getByRole('button', { name: /^(Edit|Remove) / })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Add GPU' })).toHaveCount(0);
});

test('an admin edits an API price and a GPU; bad input is refused next to its field', async ({ page }, testInfo) => {
  await signIn(page, E2E_ADMIN);
  await page.goto('/catalogs');
  const prices = page.getByTestId('catalog-api-prices');
  await prices.getByRole('button', { name: 'Edit deepseek-v4-flash prices' }).click();
  const form = page.getByRole('form', { name: 'API price form' });
  await form.getByLabel('Output $ / 1M tokens').fill('-1');
  await form.getByLabel('Input $ / 1M tokens', { exact: true }).click();
  await expect(form.getByText('Cannot be negative')).toBeVisible();
  await form.getByLabel('Output $ / 1M tokens').fill('0.3');
  await form.getByLabel('As of').fill('2026-12-01');
  await page.screenshot({ path: testInfo.outputPath('catalog-price-form.png') });
  await form.getByRole('button', { name: 'Save prices' }).click();
  await expect(form).toHaveCount(0);
  const row = prices.getByRole('row', { name: /deepseek-v4-flash/ });
  await expect(row).toContainText('$0.30');
  await expect(row).toContainText('2026-12-01');

  // A GPU added by an admin shows in the table and can be removed again.
  await page.getByRole('button', { name: 'Add GPU' }).click();
  const gpuForm = page.getByRole('form', { name: 'GPU catalog form' });
  await gpuForm.getByLabel('Model (as nvidia-smi names it)').fill('NVIDIA E2E Test GPU');
  await gpuForm.getByLabel('Memory (MiB)').fill('98304');
  await gpuForm.getByLabel('Compute capability').fill('nine');
  await gpuForm.getByLabel('Interconnect').click();
  await expect(gpuForm.getByText('Like 9.0, or empty')).toBeVisible();
  await gpuForm.getByLabel('Compute capability').fill('9.0');
  await gpuForm.getByRole('button', { name: 'Add GPU' }).click();
  await expect(gpuForm).toHaveCount(0);
  await expect(page.getByTestId('catalog-gpus').getByText('NVIDIA E2E Test GPU')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('catalogs.png'), fullPage: true });
  await page.getByRole('button', { name: 'Remove NVIDIA E2E Test GPU' }).click();
  await page.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByTestId('catalog-gpus').getByText('NVIDIA E2E Test GPU')).toHaveCount(0);

  // Put the published price back: the cost spec prices the demo against it.
  await prices.getByRole('button', { name: 'Edit deepseek-v4-flash prices' }).click();
  await form.getByLabel('Output $ / 1M tokens').fill('0.28');
  await form.getByLabel('As of').fill('2026-04-24');
  await form.getByRole('button', { name: 'Save prices' }).click();
  await expect(row).toContainText('$0.28');

  // The audit log keeps the change with before and after: the catalog's version history.
  await page.goto('/admin/audit');
  const table = page.getByTestId('audit-table');
  await page.getByLabel('Action').selectOption('catalog.api_price.update');
  await expect(table).toContainText('catalog.api_price.update');
  await expect(table).toContainText(E2E_ADMIN.email);
  await page.getByLabel('Action').selectOption('catalog.gpu.delete');
  await expect(table).toContainText('catalog.gpu.delete');
});
