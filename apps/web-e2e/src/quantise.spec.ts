import { OPERATOR } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

// Issue 13 end to end: an operator picks the recipes a tracked repo is built with for a cluster (a recipe the
// cluster cannot serve is refused at the field), a run's quantise stage builds an artifact with it, the
// artifact page shows where it came from (upstream revision, recipe version, digests), and a recipe edit saves
// a new version while the artifact keeps the one it was built with. run-e2e.ts starts the fake Hub and points
// LLAMA_QUANTIZE_PATH at the stand-in; sgl-project/DeepSeek-V4-Flash-FP8 has no auto-start policy.
const REPO = 'sgl-project/DeepSeek-V4-Flash-FP8';
const CLUSTER = 'flash-h100-vllm';

test('build targets choose the recipe, the run builds with it, and the artifact keeps its recipe version after an edit', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signIn(page, OPERATOR);

  // Build targets on the Models page: the H100 vLLM cluster defaults to FP8 block-128.
  await page.getByRole('link', { name: 'Models' }).click();
  const section = page.getByTestId('build-targets-section');
  await section.getByLabel('Repo').selectOption({ label: REPO });
  const targetRow = section.getByTestId('build-targets').getByRole('row').filter({ hasText: CLUSTER });
  await expect(targetRow).toContainText('cluster default');
  await expect(targetRow.getByTestId('build-target-recipes')).toContainText('fp8-block128');

  // An MLX build cannot be served by vLLM on H100s: refused, with the rule's reason next to the recipes.
  await targetRow.getByRole('button', { name: `Edit build targets for ${CLUSTER}` }).click();
  const form = page.getByRole('form', { name: 'Build targets form' });
  await form.getByRole('checkbox', { name: /^mlx-8bit/ }).check();
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(form.locator('#recipeNames-error')).toContainText('mlx-8bit cannot be served by this cluster');
  await form.getByRole('checkbox', { name: /^mlx-8bit/ }).uncheck();
  await form.getByRole('checkbox', { name: /^fp8-block128/ }).check();
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(targetRow).toContainText('configured');
  await expect(targetRow.getByTestId('build-target-recipes')).toHaveText(/^fp8-block128 v\d+/);

  // A new upstream revision, started by hand for the cluster: download, then the quantise stage builds.
  const revisionRow = page
    .getByTestId('revisions')
    .getByRole('row')
    .filter({ hasText: 'Upload model-' })
    .filter({ hasText: `${REPO} @` })
    .first();
  // pipeline.spec publishes on this repo too (and starts its run): wait for a newest row that is not that one.
  await expect(page.getByTestId('revisions').getByRole('row').nth(1)).toBeVisible(); // loaded (the demo has revisions)
  // By the revision's link, not the row's text: the row shows a relative time that changes by itself.
  const newestLink = revisionRow.getByRole('link').first();
  const newestBefore = (await revisionRow.count()) > 0 ? await newestLink.getAttribute('href') : null;
  const panel = page.getByTestId('dev-panel');
  await panel.getByLabel('Upstream repo').selectOption({ label: `${REPO}@main` });
  await panel.getByRole('button', { name: 'Publish new weights' }).click();
  await expect(revisionRow).toBeVisible({ timeout: 30_000 });
  if (newestBefore !== null) await expect(newestLink).not.toHaveAttribute('href', newestBefore, { timeout: 30_000 });
  await revisionRow.getByRole('link').first().click();
  await expect(page.getByTestId('manifest')).toBeVisible();
  await page.getByLabel('Pipeline target').selectOption({ label: `cluster ${CLUSTER}` });
  await page.getByRole('button', { name: 'Start pipeline' }).click();
  await expect(page).toHaveURL(/\/pipelines\/[a-z0-9]+$/);
  await expect(page.getByTestId('stage-quantise')).toContainText('fp8-block128');
  await expect(page.getByTestId('run-status').getByTestId('run-state')).toHaveText('succeeded', { timeout: 120_000 });

  // The run lists the built artifact with its recipe version; its page shows the lineage.
  const built = page
    .getByTestId('artifacts')
    .locator('div')
    .filter({ hasText: /recipe fp8-block128 v\d+/ });
  const builtText = (await built.first().textContent()) ?? '';
  const version = Number(/recipe fp8-block128 v(\d+)/.exec(builtText)?.[1]);
  expect(version).toBeGreaterThan(0);
  await built.first().getByRole('link').click();
  await expect(page).toHaveURL(/\/artifacts\/[a-z0-9]+$/);
  const artifactUrl = page.url();
  const lineage = page.getByTestId('lineage');
  await expect(lineage.getByTestId('lineage-recipe').first()).toContainText(`Recipe fp8-block128 v${version}`);
  await expect(lineage).toContainText(/recipe digest sha256:[0-9a-f]{64}/);
  await expect(lineage.getByTestId('lineage-upstream')).toContainText(`Upstream download: ${REPO}@main commit`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(REPO);
  // The artifact's own content digest, under the title.
  await expect(page.getByText(/^digest [0-9a-z:]{16,}$/).first()).toBeVisible();

  // Editing the recipe saves version n+1 ...
  await page.getByRole('link', { name: 'Recipes' }).click();
  const recipeRow = page.getByTestId('recipes').getByRole('row').filter({ hasText: 'fp8-block128' });
  await expect(recipeRow).toContainText(`v${version}`);
  await recipeRow.getByRole('button', { name: 'New version of fp8-block128' }).click();
  const recipeForm = page.getByRole('form', { name: 'Recipe form' });
  await recipeForm.getByLabel('Description').fill('FP8 block-128, re-tuned in the e2e suite');
  await recipeForm.getByRole('button', { name: 'Save new version' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(recipeRow).toContainText(`v${version + 1}`);
  await expect(recipeRow).toContainText('re-tuned in the e2e suite');

  // ... while the artifact built before keeps the version it was built with.
  await page.goto(artifactUrl);
  await expect(page.getByTestId('lineage').getByTestId('lineage-recipe').first()).toContainText(`Recipe fp8-block128 v${version}`);

  // Back to the cluster's defaults (the build target table shows where each list comes from).
  await page.getByRole('link', { name: 'Models' }).click();
  await section.getByLabel('Repo').selectOption({ label: REPO });
  await targetRow.getByRole('button', { name: `Use default build targets for ${CLUSTER}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Use defaults' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(targetRow).toContainText('cluster default');
});
