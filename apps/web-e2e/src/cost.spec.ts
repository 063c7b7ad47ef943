import { createPrismaClient } from '@fleetplane/db';
import { VIEWER } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

test('the cost page prices a cluster from its own token counters against the hosted API', async ({ page }, testInfo) => {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  expect(databaseUrl, 'run through src/run-e2e.ts, which provides E2E_DATABASE_URL').toBeTruthy();
  const prisma = createPrismaClient(databaseUrl!, { max: 1 });
  try {
    // A day of engine counters and GPU rollups for the demo H100 cluster (8 GPUs at $2.49 / GPU-hour),
    // as the agents would have reported them: 2M prompt and 0.5M generation tokens an hour.
    const cluster = await prisma.cluster.findUniqueOrThrow({
      where: { name: 'flash-h100-vllm' },
      include: { nodes: { include: { gpus: true } } },
    });
    const node = cluster.nodes[0]!;
    const now = Date.now();
    await prisma.engineSample.createMany({
      data: Array.from({ length: 25 }, (_, i) => ({
        nodeId: node.id,
        clusterId: cluster.id,
        // The first a minute before the window (the counters' baseline), the last a minute ago.
        sampledAt: new Date(now - (24 - i) * 3600_000 - 60_000),
        promptTokensTotal: i * 2_000_000,
        generationTokensTotal: i * 500_000,
      })),
    });
    await prisma.gpuRollup.createMany({
      data: node.gpus.map((g) => ({
        gpuId: g.id,
        resolution: 'minute' as const,
        bucketStart: new Date(now - 3600_000),
        sampleCount: 6,
        utilizationGpuAvg: 60,
        powerDrawWAvg: 500,
      })),
      skipDuplicates: true,
    });
  } finally {
    await prisma.$disconnect();
  }

  await signIn(page, VIEWER);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cost' }).click();
  await expect(page.getByRole('heading', { name: 'Cost', exact: true })).toBeVisible();
  const option = await page.locator('#cost-cluster option', { hasText: 'flash-h100-vllm' }).getAttribute('value');
  await page.getByLabel('Cluster').selectOption(option!);

  await expect(page.getByTestId('cost-per-hour')).toHaveText('$19.92');
  await expect(page.getByTestId('cost-total')).toHaveText('$478.08');
  await expect(page.getByTestId('cost-tokens')).toHaveText('48.00 M / 12.00 M');
  await expect(page.getByTestId('cost-charts')).toBeVisible();
  // 48M x $0.14 + 12M x $0.28 = $10.08 at the API: self-hosting this traffic costs more.
  await expect(page.getByTestId('cost-savings')).toHaveText('-$468.00');
  await expect(page.getByTestId('break-even')).toContainText('tokens / month');
  await page.screenshot({ path: testInfo.outputPath('cost-24h.png'), fullPage: true });

  // Owned GPUs: add power at $0.20/kWh from the measured draw (8 x 500 W over 24 h = 96 kWh = $19.20).
  await page.getByLabel('Power $/kWh (owned GPUs)').fill('0.2');
  await expect(page.getByTestId('cost-total')).toHaveText('$497.28');
  await page.getByRole('button', { name: 'Last week' }).click();
  await expect(page.getByRole('button', { name: 'Last week' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('cost-charts')).toBeVisible();
});
