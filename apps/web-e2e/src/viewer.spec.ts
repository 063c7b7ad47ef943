import { VIEWER } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('a viewer sees inventory read-only, and the API refuses their writes', async ({ page }) => {
  await signIn(page, VIEWER);
  await page.goto('/clusters');
  await expect(page.getByTestId('clusters-table').getByRole('link', { name: 'flash-h100-vllm' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'New cluster' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^(Edit|Delete) / })).toHaveCount(0);

  await page.getByRole('link', { name: 'flash-h100-vllm' }).click();
  await expect(page.getByRole('heading', { name: 'flash-h100-vllm' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add node' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);

  // A direct API call with the viewer's session cookie is refused by the server.
  const res = await page.request.post('/api/trpc/clusters.create', {
    headers: { 'content-type': 'application/json' },
    data: {
      json: {
        name: 'viewer-made',
        siteId: 'x',
        servingEngine: 'vllm',
        engineVersion: '0.11.2',
        maxContextTokens: 131072,
        gpuHourlyCostUsd: 1,
      },
    },
  });
  expect(res.status()).toBe(403);
  const body = (await res.json()) as { error: { json: { data: { code: string } } } };
  expect(body.error.json.data.code).toBe('FORBIDDEN');

  const adminPage = await page.request.get('/api/trpc/users.list?input=' + encodeURIComponent(JSON.stringify({ json: {} })));
  expect(adminPage.status()).toBe(403);
});

test('on a phone-sized screen the navigation is a drawer behind a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, VIEWER);
  const main = page.getByRole('navigation', { name: 'Main' });
  await expect(main).toBeHidden();
  await page.getByRole('button', { name: 'Open navigation' }).click();
  await expect(main).toBeVisible();
  await main.getByRole('link', { name: 'Alerts' }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(main).toBeHidden();
  await page.getByRole('button', { name: 'Open navigation' }).click();
  await page.keyboard.press('Escape');
  await expect(main).toBeHidden();
});
