import { createPrismaClient } from '@fleetplane/db';
import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

// The node page's Commands panel (issue 14): a command issued through the API shows up with its state and
// origin, the filters run on the server, and an operator cancels it behind a confirmation (audited).
// No agent runs for the seeded node, so the command stays queued until it is cancelled.

async function seededNode() {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  expect(databaseUrl, 'run through src/run-e2e.ts, which provides E2E_DATABASE_URL').toBeTruthy();
  const prisma = createPrismaClient(databaseUrl!, { max: 1 });
  try {
    const node = await prisma.node.findFirstOrThrow({
      where: { cluster: { name: 'flash-h100-vllm' } },
      orderBy: { hostname: 'desc' },
      select: { id: true, hostname: true },
    });
    return node;
  } finally {
    await prisma.$disconnect();
  }
}

async function auditActions(targetId: string): Promise<string[]> {
  const prisma = createPrismaClient(process.env.E2E_DATABASE_URL!, { max: 1 });
  try {
    const rows = await prisma.auditEvent.findMany({ where: { targetId }, orderBy: { occurredAt: 'asc' }, select: { action: true } });
    return rows.map((r) => r.action);
  } finally {
    await prisma.$disconnect();
  }
}

test('an operator sees a node’s commands, filters them and cancels an open one', async ({ page }) => {
  const node = await seededNode();
  await signIn(page, OPERATOR);
  const res = await page.request.post('/api/trpc/nodeCommands.issueEngineCommand', {
    headers: { 'content-type': 'application/json' },
    data: { json: { nodeId: node.id, kind: 'restart_engine', reason: 'e2e: the commands panel' } },
  });
  expect(res.ok(), `issueEngineCommand: ${res.status()} ${await res.text()}`).toBe(true);
  const commandId = ((await res.json()) as { result: { data: { json: { id: string } } } }).result.data.json.id;

  await page.goto(`/nodes/${node.id}`);
  const panel = page.getByTestId('node-commands');
  await expect(panel.getByRole('heading', { name: 'Commands' })).toBeVisible();
  const row = panel.getByRole('row').filter({ hasText: 'restart engine' }).first();
  await expect(row.getByTestId('command-state')).toHaveText('queued');
  await expect(row).toContainText('Olga Operator');

  // Filters are server-side: the queued command is not among the failed ones, and is under "active".
  await panel.getByLabel('State').selectOption('failed');
  await expect(panel.getByTestId('command-state').filter({ hasText: 'queued' })).toHaveCount(0);
  await panel.getByLabel('State').selectOption('active');
  // Exact: each open row's "Cancel … command" button has "command" in its name too.
  await panel.getByLabel('Command', { exact: true }).selectOption('restart_engine');
  await expect(row.getByTestId('command-state')).toHaveText('queued');
  await panel.getByLabel('State').selectOption('');

  // Cancel, confirmed in a dialog: the row turns cancelled and names who cancelled it.
  await row.getByRole('button', { name: 'Cancel restart engine command' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText(`Cancel restart engine on ${node.hostname}?`);
  await dialog.getByRole('button', { name: 'Cancel command' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('command-state')).toHaveText('cancelled');
  await expect(row.getByTestId('command-error')).toHaveText('Cancelled by operator@fleetplane.local');
  await expect(row.getByRole('button', { name: /^Cancel / })).toHaveCount(0);
  expect(await auditActions(commandId)).toEqual(['node_command.issue', 'node_command.cancel']);
});
