// Prepares a throwaway world for the browser tests: a fresh database (migrated and seeded), the
// production Next.js server and the worker on free ports, the fake Hub, a reference endpoint, and a real
// agent on the lab node whose engine serves the cluster's deployment; then runs Playwright and tears it all down.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@fleetplane/db/testing';
import { prepareDatabase } from '@fleetplane/dev/prepare';
import { freePort, waitForHttp as waitUntilUp } from '@fleetplane/dev/local-net';
import { startDemoFleetAgents, stopAgentEngines } from '@fleetplane/dev/demo-fleet-agents';
import { publishNewerArtifact, serveActiveDeployments, waitForAgentsReporting } from '@fleetplane/dev/demo-serving';
import { ProcessGroup } from '@fleetplane/dev/process-group';
import { E2E_ADMIN } from './fixtures/accounts';
import { createPrismaClient } from '@fleetplane/db';
import { startReferenceEndpoint } from '@fleetplane/reference-endpoint';
import { startFakeHub } from '@fleetplane/fake-hub';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

/**
 * The nodes that run a real agent (the demo's, see tools/dev demo-fleet-agents.ts: its fake GPUs and faults) with
 * a live engine serving the cluster's deployment. The lab box is upgrade-loop.spec's staging node; the two B200 nodes
 * serve through vLLM's dialect (engine.spec compares b200-node-01's KV-cache report with the planner) and are
 * rollout-live.spec's canary and wave. The other seeded
 * nodes are played by specs themselves (gpu-health enrolls an "agent" for h200-node-01; rollout and node-commands
 * rely on h100-node-01 having none), which a live agent there would race.
 */
const AGENT_HOSTS = ['lab-5090-01', 'b200-node-01', 'b200-node-02'];
/** The lab cluster gates its staging validations on smoke (minutes), not release-gate (far longer on the stand-in). */
const STAGING_CLUSTER = { name: 'lab-rtx5090-llamacpp', gatingSuiteName: 'smoke' };
/**
 * rollout-live.spec rolls out on the B200 nodes' live engines: its evidence comes from a fast reference endpoint
 * (like flash-h100-vllm's; the live engines are the rollout's target, not the validation's), the cluster runs vLLM at
 * the V4 floor so the Pro artifacts are compatible, and its analysis is short enough for CI: two checks 12 s apart
 * (agents report every 5 s, so each interval holds two samples), TTFT p99 capped at 1.5 s absolute (the wave, the
 * last step, has no previous-artifact node to compare with, so only absolute limits apply there). The canary's
 * comparisons with the node still on the previous artifact are loose (4 × its TTFT p99, half its tokens/s): both
 * engines answer in ~50 ms, and on the shared 2-core box one slow request moves a p99 by a bucket. The spec degrades
 * the canary far past both (3 s).
 */
const LIVE_ROLLOUT_CLUSTER = {
  name: 'pro-b200-vllm',
  servedModelName: 'deepseek-ai/DeepSeek-V4-Pro',
  engineVersion: '0.20.0',
  rolloutPolicy: {
    analysisIntervalSeconds: 12,
    analysisChecks: 2,
    failureLimit: 0,
    maxTtftP99Seconds: 1.5,
    maxTtftP99Ratio: 4,
    minTokensPerSecondRatio: 0.5,
  },
};
/** The upgrade rollout-live.spec rolls out: new weights of the Pro repo, published on the Hub once the world is up. */
const UPGRADE = { hubRepoId: 'deepseek-ai/DeepSeek-V4-Pro', artifactKey: 'pro-native' };

async function waitForHttp(url: string, timeoutMs: number) {
  if (!(await waitUntilUp(url, timeoutMs))) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function main(): Promise<number> {
  const db = await createTestDatabase('fp_e2e');
  const group = new ProcessGroup();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await prepareDatabase({ databaseUrl: db.url, demo: true, adminEmail: E2E_ADMIN.email, adminPassword: E2E_ADMIN.password });
    // A fast reference endpoint behind one seeded cluster, so validation.spec.ts runs smoke in seconds.
    const endpoint = await startReferenceEndpoint({
      servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
      engineVersion: '0.20.0',
      maxModelLen: 262144,
      timing: { ttftBaseMs: 2, prefillMsPer1kTokens: 0, itlMs: 0.2, streamInterval: 4 },
    });
    cleanups.push(() => endpoint.close());
    const prisma = createPrismaClient(db.url, { max: 1 });
    cleanups.push(() => prisma.$disconnect());
    await prisma.cluster.update({ where: { name: 'flash-h100-vllm' }, data: { endpointUrl: endpoint.url } });
    await prisma.cluster.update({ where: { name: STAGING_CLUSTER.name }, data: { gatingSuiteName: STAGING_CLUSTER.gatingSuiteName } });
    const liveRolloutEvidence = await startReferenceEndpoint({
      servedModelName: LIVE_ROLLOUT_CLUSTER.servedModelName,
      engineVersion: LIVE_ROLLOUT_CLUSTER.engineVersion,
      maxModelLen: 1048576,
      timing: { ttftBaseMs: 2, prefillMsPer1kTokens: 0, itlMs: 0.2, streamInterval: 4 },
    });
    cleanups.push(() => liveRolloutEvidence.close());
    await prisma.cluster.update({
      where: { name: LIVE_ROLLOUT_CLUSTER.name },
      data: {
        endpointUrl: liveRolloutEvidence.url,
        engineVersion: LIVE_ROLLOUT_CLUSTER.engineVersion,
        rolloutPolicy: LIVE_ROLLOUT_CLUSTER.rolloutPolicy,
      },
    });
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // The demo Hub stand-in, with webhooks to the web app, so pipeline.spec.ts can publish upstream revisions.
    const hubWebhookSecret = randomBytes(16).toString('hex');
    const hub = await startFakeHub({ webhook: { url: `${baseUrl}/api/hooks/hub`, secret: hubWebhookSecret }, onWarning: () => undefined });
    cleanups.push(() => hub.close());
    const artifactsDir = await mkdtemp(path.join(tmpdir(), 'fp-e2e-data-'));
    // After the agents stopped (group.stopAll runs first): their engines outlive them by design.
    cleanups.push(async () => stopAgentEngines(artifactsDir, AGENT_HOSTS));
    cleanups.push(() => rm(artifactsDir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      FLEETPLANE_QUEUE_PREFIX: `fpe2e-${randomBytes(4).toString('hex')}`,
      BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
      FLEETPLANE_SECRET_KEY: randomBytes(32).toString('hex'),
      FLEETPLANE_PUBLIC_URL: baseUrl,
      LOG_LEVEL: 'warn',
      // The suite signs in many times from one address; the limit itself is tested in packages/auth.
      SIGN_IN_ATTEMPTS_PER_MINUTE: '1000',
      SIGN_IN_ATTEMPTS_PER_ACCOUNT: '1000',
      HF_ENDPOINT: hub.url,
      HUB_WEBHOOK_SECRET: hubWebhookSecret,
      FLEETPLANE_DEMO: 'true',
      FLEETPLANE_DATA_DIR: artifactsDir,
      // The demo's GGUF K-quant recipe runs the llama-quantize stand-in.
      LLAMA_QUANTIZE_PATH: path.join(root, 'tools/fake-llama-quantize/bin/llama-quantize'),
    };
    group.start('web', process.execPath, [path.join(root, 'apps/web/server.mjs'), '-p', String(port), '-H', '127.0.0.1'], {
      env,
      cwd: path.join(root, 'apps/web'),
      quiet: true,
    });
    group.start('worker', process.execPath, [path.join(root, 'apps/worker/dist/worker.mjs')], { env, quiet: true });
    await waitForHttp(`${baseUrl}/api/health`, 60_000);
    // Real agents, enrolled with join tokens like the demo's, engines on free ports (never a running demo's).
    const agentsSince = new Date();
    const agents = await startDemoFleetAgents({
      root,
      dataDir: artifactsDir,
      serverUrl: baseUrl,
      databaseUrl: db.url,
      group,
      env,
      say: (msg) => console.log(msg),
      hosts: AGENT_HOSTS,
      enginePorts: 'free',
      scrapeDemoEndpoints: false,
      scrapeOwnEngines: true,
      actorLabel: 'e2e harness (run-e2e.ts)',
    });
    if (agents.started.length !== AGENT_HOSTS.length)
      throw new Error(`agents started on ${agents.started.join(', ') || 'no node'} of ${AGENT_HOSTS.join(', ')}`);
    await waitForAgentsReporting(prisma, AGENT_HOSTS, agentsSince, 60_000);
    // Each agent's engine serves its cluster's deployment (the seeded artifact's files fetched from the Hub).
    const served = await serveActiveDeployments({
      databaseUrl: db.url,
      hubUrl: hub.url,
      dataDir: artifactsDir,
      hosts: AGENT_HOSTS,
      origin: 'e2e harness: serve the deployment',
      timeoutMs: 120_000,
    });
    console.log(
      `e2e: agents reporting and serving (${served.map((s) => `${s.host} ${s.digest.slice(0, 12)}`).join(', ')}) ${((Date.now() - agentsSince.getTime()) / 1000).toFixed(1)} s after they started`,
    );
    const upgrade = await publishNewerArtifact({ databaseUrl: db.url, hub, ...UPGRADE, dataDir: artifactsDir, timeoutMs: 60_000 });
    console.log(
      `e2e: ${UPGRADE.hubRepoId}@${upgrade.commitSha.slice(0, 7)} (${upgrade.title}) published, artifact ${upgrade.digest.slice(0, 12)} ready`,
    );
    const args = ['playwright', 'test', '--config', path.join(here, '../playwright.config.ts'), ...process.argv.slice(2)];
    const code = await new Promise<number>((resolve) => {
      const pw = spawn('npx', args, {
        cwd: path.join(here, '..'),
        stdio: 'inherit',
        env: { ...env, NODE_ENV: 'test', E2E_BASE_URL: baseUrl, E2E_DATABASE_URL: db.url, E2E_PRO_UPGRADE_ARTIFACT_ID: upgrade.artifactId },
      });
      pw.on('exit', (c) => resolve(c ?? 1));
    });
    return code;
  } finally {
    await group.stopAll(10_000);
    for (const c of cleanups) await c().catch(() => undefined);
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
