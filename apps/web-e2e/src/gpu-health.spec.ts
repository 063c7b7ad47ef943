// GPU health end to end: an operator mints a join token in the UI, an "agent" (this test, speaking the
// v1 agent API) enrolls and reports an uncorrected ECC error, and the dashboard shows the GPU critical
// within one refresh of the grid after the health job ran, with the reason and an alert to acknowledge.
import { randomUUID } from 'node:crypto';
import { demoGpuUuid } from '@fleetplane/dev/seed-demo-fleet';
import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

const HOST = 'h200-node-01';

function sample(uuid: string, eccUncorrected: number) {
  return {
    sampledAt: new Date().toISOString(),
    uuid,
    index: 0,
    name: 'NVIDIA H200',
    pciBusId: '00000000:18:00.0',
    memoryTotalMib: 143771,
    memoryUsedMib: 128_000,
    utilizationGpuPct: 87,
    utilizationMemoryPct: 41,
    temperatureC: 63,
    powerDrawW: 512.5,
    powerLimitW: 700,
    smClockMhz: 1980,
    eccCorrectedVolatile: 3,
    eccUncorrectedVolatile: eccUncorrected,
    clocksEventReasons: 0,
    remappedRowsCorrectable: 0,
    remappedRowsUncorrectable: 0,
    remappedRowsPending: false,
    remappedRowsFailure: false,
  };
}

test('a GPU reporting an uncorrected ECC error turns critical on the dashboard, with its reason and an alert', async ({ page }) => {
  await signIn(page, OPERATOR);
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: 'flash-h200-sglang' }).click();
  const cell = page.getByTestId(`gpu-cell-${HOST}-0`);
  await expect(cell).toBeVisible();
  await expect(cell).not.toHaveAttribute('data-health', 'critical');

  // The operator creates a one-time join token; the command to run on the node is shown once.
  const tokens = page.getByTestId('join-tokens');
  await tokens.getByRole('button', { name: 'Create join token' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Create token' }).click();
  const command = (await page.getByTestId('enroll-command').textContent()) ?? '';
  const token = /--token (\S+)/.exec(command)?.[1];
  expect(command).toContain('fleetplane-agent enroll --server http');
  expect(token).toMatch(/^fpj_/);
  await page.keyboard.press('Escape');
  await expect(tokens.getByTestId('join-tokens-table')).toContainText('active');

  // The agent side: enroll once, and a second use of the token is refused.
  const enroll = { joinToken: token, hostname: HOST, agentVersion: '0.1.0', driverVersion: '580.95.05', cudaVersion: '13.0' };
  const enrolled = await page.request.post('/api/agent/v1/enroll', { data: enroll });
  expect(enrolled.status()).toBe(201);
  const { credential } = (await enrolled.json()) as { credential: string };
  const reused = await page.request.post('/api/agent/v1/enroll', { data: enroll });
  expect(reused.status()).toBe(409);

  const uuid = demoGpuUuid(HOST, 0);
  const batch = (ecc: number) => ({
    batchId: randomUUID(),
    sentAt: new Date().toISOString(),
    host: { hostname: HOST, agentVersion: '0.1.0', driverVersion: '580.95.05', cudaVersion: '13.0' },
    gpuSamples: [sample(uuid, ecc)],
    xidEvents: [],
    engineSamples: [],
    droppedSamples: 0,
  });
  const headers = { authorization: `Bearer ${credential}` };
  const bad = await page.request.post('/api/agent/v1/telemetry', {
    headers,
    data: { ...batch(2), gpuSamples: [{ ...sample(uuid, 2), temperatureC: 'hot' }] },
  });
  expect(bad.status()).toBe(400);
  expect(JSON.stringify(await bad.json())).toContain('gpuSamples.0.temperatureC');
  const posted = await page.request.post('/api/agent/v1/telemetry', { headers, data: batch(2) });
  expect(posted.status()).toBe(200);
  expect(await posted.json()).toMatchObject({ accepted: true, duplicate: false, stored: { gpuSamples: 1 } });

  // The health job runs every 10 s and the grid refreshes every 5 s, in place (no reload).
  await expect(cell).toHaveAttribute('data-health', 'critical', { timeout: 25_000 });
  await cell.hover();
  await expect(page.getByTestId('gpu-tooltip')).toContainText('Uncorrected ECC errors since the driver loaded: 2');

  await cell.click();
  await expect(page.getByRole('heading', { name: `${HOST} · GPU 0` })).toBeVisible();
  await expect(page.getByTestId('gpu-reasons')).toContainText('ecc uncorrected');
  await expect(page.getByTestId('gpu-reasons')).toContainText(`${HOST} GPU 0: uncorrected ECC errors`);

  // The alert is open once; the operator acknowledges it.
  await page.getByRole('link', { name: 'Alerts', exact: true }).click();
  const row = page
    .getByTestId('alerts-table')
    .getByRole('row')
    .filter({ hasText: `${HOST} GPU 0: uncorrected ECC errors` });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('open');
  await row.getByRole('button', { name: /^Acknowledge/ }).click();
  await expect(row).toContainText('acknowledged');
  await expect(row).toContainText(`by ${OPERATOR.email}`);

  // The overview counts it among the critical GPUs.
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('live-flash-h200-sglang')).toContainText('1 critical');
});
