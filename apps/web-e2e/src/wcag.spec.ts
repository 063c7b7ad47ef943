// WCAG 2 AA, checked like everything else: axe-core scans every dashboard page (signed in at desktop
// width, and the sign-in page) and the test fails on any violation, listing each rule and the elements
// it found. Ops teams read these pages on wall screens, so contrast counts as much as a broken link.
//
// The file is named to run last (Playwright runs files in alphabetical order with one worker): by then
// validation.spec.ts, pipeline.spec.ts and proposals.spec.ts have made runs and a proposal whose detail pages are scanned too. Run alone,
// it starts a validation run and a pipeline run itself.
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { createPrismaClient } from '@fleetplane/db';
import { E2E_ADMIN } from './fixtures/accounts';
import { expect, signIn, test } from './fixtures/test';

const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const DESKTOP = { width: 1280, height: 900 };

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

/** One readable line per violation and element: rule, impact, what is wrong, where. */
function describeViolations(results: AxeResults): string {
  return results.violations
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `  [${v.impact ?? 'n/a'}] ${v.id}: ${v.help}\n      at ${n.target.join(' ')}\n      ${(n.failureSummary ?? '').replace(/\n\s*/g, ' | ')}`,
      ),
    )
    .join('\n');
}

/** Waits until the page has drawn its data: its main heading, and no loading skeleton left. */
async function settle(page: Page) {
  await expect(page.getByRole('heading', { level: 1 }).first()).toBeVisible();
  await expect(page.locator('.animate-pulse')).toHaveCount(0, { timeout: 20_000 });
}

async function expectNoViolations(page: Page, name: string) {
  await settle(page);
  if (process.env.E2E_SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.E2E_SCREENSHOT_DIR}/${name}.png`, fullPage: true });
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA_TAGS).analyze();
  const count = results.violations.reduce((n, v) => n + v.nodes.length, 0);
  // Soft, so every page is scanned even after one fails: one run lists all the work.
  expect.soft(count, `WCAG 2 AA violations on ${name} (${page.url()}):\n${describeViolations(results)}`).toBe(0);
}

/** The ids of one record behind each detail page; runs are started when no earlier spec made one. */
async function detailPageIds(page: Page) {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  expect(databaseUrl, 'run through src/run-e2e.ts, which provides E2E_DATABASE_URL').toBeTruthy();
  const prisma = createPrismaClient(databaseUrl!, { max: 1 });
  try {
    const cluster = await prisma.cluster.findUniqueOrThrow({ where: { name: 'flash-h100-vllm' }, select: { id: true } });
    const node = await prisma.node.findFirstOrThrow({
      where: { clusterId: cluster.id },
      orderBy: { hostname: 'asc' },
      select: { id: true },
    });
    const gpu = await prisma.gpu.findFirstOrThrow({ where: { nodeId: node.id }, orderBy: { index: 'asc' }, select: { id: true } });
    const revision = await prisma.modelRevision.findFirstOrThrow({ orderBy: { detectedAt: 'desc' }, select: { id: true } });
    let validationRunId = (await prisma.validationRun.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true } }))?.id;
    if (!validationRunId)
      validationRunId = await startThroughApi(page, 'validationRuns.start', { clusterId: cluster.id, suiteName: 'smoke' });
    let pipelineRunId = (await prisma.pipelineRun.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true } }))?.id;
    if (!pipelineRunId) pipelineRunId = await startThroughApi(page, 'pipelines.start', { revisionId: revision.id, targetKey: 'default' });
    let proposalId = (await prisma.upgradeProposal.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true } }))?.id;
    if (!proposalId) {
      const deployed = await prisma.deployment.findFirstOrThrow({
        where: { clusterId: cluster.id, state: 'active' },
        select: { artifactId: true },
      });
      proposalId = await startThroughApi(page, 'proposals.create', { clusterId: cluster.id, artifactId: deployed.artifactId });
    }
    // An artifact page: a built one when an earlier spec built one, else any (the upstream download).
    const artifact =
      (await prisma.artifact.findFirst({ where: { recipeId: { not: null } }, orderBy: { createdAt: 'desc' }, select: { id: true } })) ??
      (await prisma.artifact.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true } }));
    // A finished rollout of the cluster's active artifact, unless rollout.spec.ts left real ones.
    let rolloutId = (await prisma.rollout.findFirst({ orderBy: { createdAt: 'desc' }, select: { id: true } }))?.id;
    if (!rolloutId) {
      const active = await prisma.deployment.findFirstOrThrow({
        where: { clusterId: cluster.id, state: 'active' },
        select: { artifactId: true },
      });
      rolloutId = (
        await prisma.rollout.create({
          data: {
            clusterId: cluster.id,
            artifactId: active.artifactId,
            state: 'succeeded',
            policy: {},
            stepCount: 1,
            reason: 'canary analysis passed (5 checks); every node serves the new artifact',
            finishedAt: new Date(),
            nodes: { create: [{ nodeId: node.id, step: 0, state: 'serving' }] },
          },
        })
      ).id;
    }
    // An open command on the node, so its Commands panel is scanned with a row, a state badge and a cancel button.
    if (!(await prisma.nodeCommand.findFirst({ where: { nodeId: node.id, state: 'queued' }, select: { id: true } })))
      await startThroughApi(page, 'nodeCommands.issueEngineCommand', { nodeId: node.id, kind: 'restart_engine', reason: 'WCAG scan' });
    return {
      clusterId: cluster.id,
      nodeId: node.id,
      gpuId: gpu.id,
      revisionId: revision.id,
      validationRunId,
      pipelineRunId,
      proposalId,
      artifactId: artifact?.id ?? null,
      rolloutId,
    };
  } finally {
    await prisma.$disconnect();
  }
}

async function startThroughApi(page: Page, procedure: string, input: unknown): Promise<string> {
  const res = await page.request.post(`/api/trpc/${procedure}`, { headers: { 'content-type': 'application/json' }, data: { json: input } });
  expect(res.ok(), `${procedure}: ${res.status()} ${await res.text()}`).toBe(true);
  return ((await res.json()) as { result: { data: { json: { id: string } } } }).result.data.json.id;
}

test('the sign-in page meets WCAG 2 AA', async ({ page }) => {
  await page.setViewportSize(DESKTOP);
  await page.goto('/sign-in');
  await expectNoViolations(page, 'sign-in');
});

test('every signed-in dashboard page meets WCAG 2 AA', async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize(DESKTOP);
  await signIn(page, E2E_ADMIN);
  const ids = await detailPageIds(page);
  const pages: [name: string, path: string][] = [
    ['overview', '/'],
    ['clusters', '/clusters'],
    ['cluster-detail', `/clusters/${ids.clusterId}`],
    ['node-detail', `/nodes/${ids.nodeId}`],
    ['gpu-detail', `/gpus/${ids.gpuId}`],
    ['alerts', '/alerts'],
    ['sites', '/sites'],
    ['validation', '/validation'],
    ['validation-run', `/validation/${ids.validationRunId}`],
    ['models', '/models'],
    ['model-revision', `/models/revisions/${ids.revisionId}`],
    ['pipelines', '/pipelines'],
    ['pipeline-run', `/pipelines/${ids.pipelineRunId}`],
    ['proposals', '/proposals'],
    ['proposal', `/proposals/${ids.proposalId}`],
    ['rollouts', '/rollouts'],
    ['rollout-detail', `/rollouts/${ids.rolloutId}`],
    ['users', '/admin/users'],
    ['audit', '/admin/audit'],
    ['settings', '/admin/settings'],
    ['recipes', '/recipes'],
    ...(ids.artifactId ? ([['artifact', `/artifacts/${ids.artifactId}`]] as [string, string][]) : []),
    ['planner', '/planner'],
    ['cost', '/cost'],
    ['catalogs', '/catalogs'],
  ];
  for (const [name, path] of pages) {
    await test.step(name, async () => {
      await page.goto(path);
      await expect(page.getByTestId('current-user')).toBeVisible();
      await expectNoViolations(page, name);
    });
  }
});
