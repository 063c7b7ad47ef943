import { E2E_ADMIN, OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('an operator creates a cluster, seeing field errors first', async ({ page }) => {
  await signIn(page, OPERATOR);
  await page.goto('/clusters');
  await page.getByRole('button', { name: 'New cluster' }).click();
  const form = page.getByRole('form', { name: 'Cluster form' });

  await form.getByLabel('Name', { exact: true }).fill('Bad Name!');
  await form.getByLabel('Engine version').fill('');
  await form.getByLabel('Endpoint URL').fill('not a url');
  await form.getByLabel('GPU cost ($ per GPU-hour)').fill('-3');
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(form.getByText('Use lower-case letters, digits and dashes (like a DNS label)')).toBeVisible();
  await expect(form.locator('#cluster-site-error')).toHaveText('Choose a site');
  await expect(form.getByText('Enter a full URL such as http://10.0.0.5:8000')).toBeVisible();
  await expect(form.getByText('Cost cannot be negative')).toBeVisible();

  await form.getByLabel('Name', { exact: true }).fill('e2e-h200-canary');
  await form.getByLabel('Site').selectOption({ label: 'fra-dc1 (eu-central (Frankfurt), eu)' });
  await form.getByLabel('Serving engine').selectOption('vllm');
  await form.getByLabel('Engine version').fill('0.11.2');
  await form.getByLabel('Endpoint URL').fill('http://10.0.9.9:8000');
  await form.getByLabel('GPU cost ($ per GPU-hour)').fill('3.2');
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(page.getByTestId('clusters-table').getByRole('link', { name: 'e2e-h200-canary' })).toBeVisible();

  // A duplicate name is refused by the server and shown on the field.
  await page.getByRole('button', { name: 'New cluster' }).click();
  await form.getByLabel('Name', { exact: true }).fill('e2e-h200-canary');
  await form.getByLabel('Site').selectOption({ label: 'fra-dc1 (eu-central (Frankfurt), eu)' });
  await form.getByLabel('Engine version').fill('0.11.2');
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(form.getByText('A cluster named "e2e-h200-canary" already exists')).toBeVisible();
});

test('deleting a cluster that still has nodes is refused with a clear message', async ({ page }) => {
  await signIn(page, OPERATOR);
  await page.goto('/clusters');
  await page.getByRole('button', { name: 'Delete flash-h200-sglang' }).click();
  await page.getByRole('button', { name: 'Delete cluster' }).click();
  await expect(page.getByRole('dialog')).toContainText('still has 1 node. Delete or move its nodes before deleting the cluster.');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('clusters-table').getByRole('link', { name: 'flash-h200-sglang' })).toBeVisible();
});

test('the admin sees the operator’s change in the audit log', async ({ page }) => {
  await signIn(page, E2E_ADMIN);
  await page.goto('/admin/audit');
  await page.getByLabel('Action').selectOption('cluster.create');
  const table = page.getByTestId('audit-table');
  await expect(table).toContainText('operator@fleetplane.local');
  await expect(table).toContainText('cluster.create');
});
