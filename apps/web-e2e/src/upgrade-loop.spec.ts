import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';
import type { Locator } from '@playwright/test';
import { engineFact } from './fixtures/engine-panel';

// Issue 14 end to end: the upgrade loop with no click. run-e2e.ts runs a real agent on lab-5090-01 whose engine
// (the reference endpoint, launched by the agent from the cluster's template) serves the lab cluster's deployment,
// and gates the lab cluster on the smoke suite. The operator makes that node the cluster's staging node; then a new
// upstream revision of the auto-start repo is published and, with no further action, the run downloads, builds the
// cluster's GGUF candidates, validates each on the staging node (load, smoke suite against the agent's engine,
// restore) and proposes the upgrades, while the node goes back to serving what it served before.
const REPO = 'deepseek-ai/DeepSeek-V4-Flash';
const CLUSTER = 'lab-rtx5090-llamacpp';
const HOST = 'lab-5090-01';
/** What the lab cluster builds by default for this repo: one candidate, one validation each. */
const RECIPES = ['gguf-q8_0', 'gguf-q4_k_m'];

async function hrefOf(link: Locator): Promise<string> {
  const href = await link.getAttribute('href');
  expect(href).toBeTruthy();
  return href!;
}

test('a published revision is downloaded, quantised, validated on the staging node and proposed, with no click', async ({
  page,
}, testInfo) => {
  test.setTimeout(900_000);
  await signIn(page, OPERATOR);

  // The staging node serves its cluster's deployment through the live engine its agent started.
  await page.goto('/clusters');
  await page.getByTestId('clusters-table').getByRole('link', { name: CLUSTER }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(CLUSTER);
  const clusterUrl = page.url();
  await page.getByRole('link', { name: HOST }).first().click();
  await expect(page).toHaveURL(/\/nodes\/[a-z0-9]+$/);
  const nodeUrl = page.url();
  await expect(engineFact(page, 'State')).toHaveText('ready', { timeout: 30_000 });
  const serving = engineFact(page, 'Serving');
  await expect(serving).toHaveText(/Q4_K_M \([0-9a-f]{12}\)$/);
  const servedBefore = (await serving.textContent())!;
  await page.screenshot({ path: testInfo.outputPath('node-before.png'), fullPage: true });

  // Setup (before the publish): the lab node is the cluster's staging node ...
  await page.goto(clusterUrl);
  const engineSettings = page.getByTestId('engine-settings');
  await engineSettings.getByRole('button', { name: 'Edit engine settings' }).click();
  const engineForm = page.getByRole('form', { name: 'Engine settings form' });
  await engineForm.getByLabel('Staging node').selectOption({ label: HOST });
  await engineForm.getByRole('button', { name: 'Save engine settings' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(engineSettings).toContainText(`Staging node${HOST}`);

  // Publish. pipeline.spec publishes on this repo too: tell the new revision by its link.
  await page.getByRole('link', { name: 'Models' }).click();
  const revisionRow = page
    .getByTestId('revisions')
    .getByRole('row')
    .filter({ hasText: 'Upload model-' })
    .filter({ hasText: `${REPO} @` })
    .first();
  await expect(page.getByTestId('revisions').getByRole('row').nth(1)).toBeVisible();
  const newestLink = revisionRow.getByRole('link').first();
  const newestBefore = (await revisionRow.count()) > 0 ? await newestLink.getAttribute('href') : null;
  const panel = page.getByTestId('dev-panel');
  await panel.getByLabel('Upstream repo').selectOption({ label: `${REPO}@main` });
  await panel.getByRole('button', { name: 'Publish new weights' }).click();

  // From here on nobody clicks: the test only opens pages by their addresses and reads them.
  await expect(revisionRow).toBeVisible({ timeout: 30_000 });
  if (newestBefore !== null) await expect(newestLink).not.toHaveAttribute('href', newestBefore, { timeout: 30_000 });
  await page.goto(await hrefOf(newestLink));
  const runLinks = page.getByTestId('revision-runs').getByRole('link');
  await expect(runLinks).toHaveCount(2, { timeout: 30_000 });
  let runUrl: string | null = null;
  for (const link of await runLinks.all()) {
    const href = await hrefOf(link);
    const probe = await page.context().newPage();
    await probe.goto(href);
    await expect(probe.getByText(/auto run for cluster/)).toBeVisible();
    if (await probe.getByText(`auto run for cluster ${CLUSTER}`).isVisible()) runUrl = href;
    await probe.close();
  }
  expect(runUrl, `a run for ${CLUSTER}`).not.toBeNull();
  await page.goto(runUrl!);

  // Download, then the cluster's two GGUF builds, then one validation per candidate on the staging node.
  await expect(page.getByTestId('step-download-default').getByTestId('run-state')).toHaveText('succeeded', { timeout: 180_000 });
  for (const recipe of RECIPES)
    await expect(page.getByTestId(`step-quantise-${recipe}`).getByTestId('run-state')).toHaveText('succeeded', { timeout: 180_000 });
  const validate = page.getByTestId('validate-step');
  await expect(validate).toHaveCount(RECIPES.length);
  const first = validate.first();
  await expect(first.getByTestId('validate-node')).toHaveText(HOST, { timeout: 120_000 });
  await expect(first.getByTestId('validate-node')).toHaveAttribute('href', new URL(nodeUrl).pathname);
  await expect(first).toContainText(/running the gating suite|putting the node back|done/, { timeout: 180_000 });
  await expect(first.getByTestId('validate-run-link')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('run-validating.png'), fullPage: true });
  const validationRunUrl = await hrefOf(first.getByTestId('validate-run-link'));

  // The verdicts and the proposals, on the run page (the steps take the node one after the other).
  const proposalHrefs: string[] = [];
  for (const step of await validate.all()) {
    await expect(step.getByTestId('run-state')).toHaveText('succeeded', { timeout: 300_000 });
    await expect(step.getByTestId('validate-node')).toHaveText(HOST);
    await expect(step.getByTestId('validate-run-link')).toContainText('(pass)');
    proposalHrefs.push(await hrefOf(step.getByTestId('validate-proposal-link')));
  }
  await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('succeeded', { timeout: 30_000 });
  await page.screenshot({ path: testInfo.outputPath('run-done.png'), fullPage: true });

  // The validation run measured the staging node's engine.
  await page.goto(validationRunUrl);
  await expect(page.getByTestId('run-status').getByTestId('verdict')).toHaveText('pass');
  await expect(page.getByRole('link', { name: HOST })).toBeVisible();

  // A proposal per (candidate, cluster) waits for approval in the list.
  await page.goto('/proposals');
  for (const href of proposalHrefs) {
    const proposal = page
      .getByTestId('proposals-table')
      .getByRole('row')
      .filter({ has: page.locator(`a[href="${href}"]`) });
    await expect(proposal).toContainText(CLUSTER);
    // The label names the revision and the quantisation detected from the built files.
    await expect(proposal).toContainText(`${REPO}@`);
    await expect(proposal.getByTestId('proposal-state')).toHaveText('pending approval');
  }

  // The node: the candidate was loaded by the step and the deployment loaded back; it serves what it served before.
  await page.goto(nodeUrl);
  const commands = page.getByTestId('node-commands');
  const stepLoads = commands.getByRole('row').filter({ hasText: 'load artifact' }).filter({ hasText: 'pipeline step' });
  // Per validation: the candidate's load and the restore.
  await expect(stepLoads).toHaveCount(2 * RECIPES.length);
  for (const row of await stepLoads.all()) await expect(row.getByTestId('command-state')).toHaveText('succeeded');
  await expect(engineFact(page, 'State')).toHaveText('ready', { timeout: 60_000 });
  await expect(serving).toHaveText(servedBefore, { timeout: 60_000 });
  await page.screenshot({ path: testInfo.outputPath('node-after.png'), fullPage: true });

  // Leave the lab cluster as the seed had it: no staging node.
  await page.goto(clusterUrl);
  await engineSettings.getByRole('button', { name: 'Edit engine settings' }).click();
  await engineForm.getByLabel('Staging node').selectOption({ label: 'none' });
  await engineForm.getByRole('button', { name: 'Save engine settings' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
});
