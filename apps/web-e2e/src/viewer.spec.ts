import { createPrismaClient } from '@fleetplane/db';
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

test('a viewer reads build targets and a node’s commands without their write actions', async ({ page }) => {
  // An open command on the seeded node (written directly: the API would refuse the viewer), so a Cancel button
  // would show if the panel did not check the role.
  const prisma = createPrismaClient(process.env.E2E_DATABASE_URL!, { max: 1 });
  let node: { id: string };
  let commandId: string;
  try {
    node = await prisma.node.findFirstOrThrow({ where: { cluster: { name: 'flash-h100-vllm' } }, select: { id: true } });
    commandId = (
      await prisma.nodeCommand.create({
        data: {
          nodeId: node.id,
          kind: 'restart_engine',
          payload: { reason: 'viewer e2e' },
          origin: 'operator',
          deadlineAt: new Date(Date.now() + 3_600_000),
        },
      })
    ).id;
  } finally {
    await prisma.$disconnect();
  }
  await signIn(page, VIEWER);
  await page.goto('/models');
  const targets = page.getByTestId('build-targets');
  await expect(targets.getByRole('row').filter({ hasText: 'flash-h100-vllm' })).toBeVisible();
  await expect(targets.getByRole('button', { name: /build targets for/ })).toHaveCount(0);

  await page.goto(`/nodes/${node.id}`);
  const commands = page.getByTestId('node-commands');
  await expect(commands.getByTestId('command-state').filter({ hasText: 'queued' }).first()).toBeVisible();
  await expect(commands.getByRole('button', { name: /^Cancel / })).toHaveCount(0);
  const res = await page.request.post('/api/trpc/nodeCommands.cancel', {
    headers: { 'content-type': 'application/json' },
    data: { json: { id: commandId } },
  });
  expect(res.status()).toBe(403);
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
