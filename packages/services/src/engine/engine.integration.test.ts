// Engine services against the real database: launch specs from cluster and node settings, the node state
// the agent reports (latest observedAt wins; its HTTP side is apps/web/src/server/agent-api/node-state), drift alerts opened and resolved by the
// health pass, and the engine settings with their preview.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZNodeStateReport } from '@fleetplane/contracts';
import { exampleNodeStateReport } from '@fleetplane/contracts/testing';
import { engineDriftFingerprint } from '@fleetplane/domain';
import { v4FlashConfig } from '@fleetplane/domain/capacity/test-support';
import { planCapacity } from '../capacity/planner.service';
import type { ServiceContext } from '../context';
import { evaluateFleetHealth } from '../health/evaluate-health.service';
import { makeNode, testDeps, unique, type TestNode } from '../telemetry/test-support';
import {
  getClusterEngineSettings,
  getNodeEngine,
  previewEngineLaunch,
  updateClusterEngineSettings,
  updateNodeEngineTemplate,
} from './engine-settings.service';
import { engineLaunchSpecFor } from './launch-spec.service';
import { recordNodeState } from './node-state.service';

const deps = testDeps();
const { prisma } = deps;
let ctx: ServiceContext;
beforeAll(async () => {
  const userId = randomUUID();
  await prisma.user.create({ data: { id: userId, email: `${userId}@test.local`, name: 'op', role: 'operator' } });
  ctx = { prisma, actor: { type: 'user', id: userId, label: `${userId}@test.local` } };
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const sha = () => createHash('sha1').update(randomUUID()).digest('hex');
async function artifact(format: 'fp8' | 'gguf' = 'fp8', files = ['config.json', 'model-00001-of-00001.safetensors']) {
  const fam = await prisma.modelFamily.upsert({
    where: { slug: 'deepseek-v4-flash' },
    create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
    update: {},
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: fam.id, hubRepoId: `deepseek-ai/${unique('Flash')}`, filePatterns: ['*'] },
  });
  const commit = sha();
  const revision = await prisma.modelRevision.create({ data: { trackedRepoId: repo.id, commitSha: commit, changeClass: 'initial' } });
  const digest = createHash('sha256').update(randomUUID()).digest('hex');
  const a = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format,
      quantisation: format === 'gguf' ? 'Q4_K_M' : 'FP8',
      sizeBytes: 1000n,
      digest,
      storageUri: 'file:///nonexistent',
      files: { create: files.map((path) => ({ path, sizeBytes: 10n, sha256: 'a'.repeat(64) })) },
    },
  });
  return { id: a.id, digest, label: `${repo.hubRepoId}@${commit.slice(0, 7)} ${a.quantisation}`, repo: repo.hubRepoId };
}

const stateReport = exampleNodeStateReport;

/** A node state as the agent API hands it over once the request is read: the credential's node, the parsed report. */
const put = (node: TestNode, body: unknown) => recordNodeState(prisma, node.nodeId, ZNodeStateReport.parse(body));

describe('engineLaunchSpecFor', () => {
  it('renders the cluster settings for the node (TP = its GPU count) and the artifact', async () => {
    const n = await makeNode(prisma, 4);
    await prisma.cluster.update({
      where: { id: n.clusterId },
      data: { engineVersion: '0.25.0', servedModelName: 'flash', maxContextTokens: 65536, engineKvCacheDtype: 'fp8' },
    });
    const a = await artifact();
    const spec = await engineLaunchSpecFor(prisma, { nodeId: n.nodeId, artifactId: a.id });
    expect(spec).toMatchObject({
      kind: 'vllm',
      mode: 'child',
      port: 8000,
      servedModelName: 'flash',
      readyTimeoutSeconds: 1800,
      drainSeconds: 30,
    });
    expect(spec.argv.join(' ')).toContain(
      'vllm serve {artifact_dir} --served-model-name flash --host {host} --port {port} --trust-remote-code --tensor-parallel-size 4',
    );
    expect(spec.argv.join(' ')).toContain('--max-model-len 65536 --kv-cache-dtype fp8');
  });
  it('a node template overrides the cluster; an impossible combination is refused on its field', async () => {
    const n = await makeNode(prisma, 1);
    const a = await artifact();
    await updateNodeEngineTemplate(ctx, {
      nodeId: n.nodeId,
      engineLaunchTemplate: 'REF_LOAD_MS=5 node ref.js --artifact-dir {artifact_dir} --port {port}',
    });
    const spec = await engineLaunchSpecFor(prisma, { nodeId: n.nodeId, artifactId: a.id });
    expect(spec.argv).toEqual(['node', 'ref.js', '--artifact-dir', '{artifact_dir}', '--port', '{port}']);
    expect(spec.env).toEqual({ REF_LOAD_MS: '5' });
    const gguf = await artifact('gguf', ['m.gguf']);
    await updateNodeEngineTemplate(ctx, { nodeId: n.nodeId, engineLaunchTemplate: null });
    await expect(engineLaunchSpecFor(prisma, { nodeId: n.nodeId, artifactId: gguf.id })).rejects.toMatchObject({
      kind: 'invalid',
      field: 'servingEngine',
    });
    await expect(updateNodeEngineTemplate(ctx, { nodeId: n.nodeId, engineLaunchTemplate: 'vllm serve {model}' })).rejects.toMatchObject({
      kind: 'invalid',
      field: 'engineLaunchTemplate',
    });
  });
});

describe('recordNodeState', () => {
  it('stores the report for the node; an older report does not overwrite a newer one', async () => {
    const n = await makeNode(prisma, 1);
    const t = Date.now();
    expect(await put(n, stateReport({ observedAt: new Date(t), restarts: 2 }))).toEqual({ accepted: true });
    expect(await put(n, stateReport({ observedAt: new Date(t - 5000), restarts: 7 }))).toEqual({ accepted: false });
    const row = await prisma.nodeRuntimeState.findUniqueOrThrow({ where: { nodeId: n.nodeId } });
    expect(row).toMatchObject({ engineState: 'ready', restarts: 2, servedModelIds: ['flash'], maxModelLen: 131072, lastLoadSeconds: 12.5 });
    expect(row.cacheConfig).toEqual({ block_size: '16' });
  });
});

describe('drift', () => {
  it('opens a drift alert when the node serves another artifact than its deployment, and resolves it once it serves the right one', async () => {
    const n = await makeNode(prisma, 1);
    const want = await artifact();
    const other = await artifact();
    await prisma.deployment.create({
      data: { clusterId: n.clusterId, artifactId: want.id, state: 'active', startedAt: new Date(Date.now() - 60_000) },
    });
    const t0 = new Date();
    await put(n, stateReport({ observedAt: t0, digest: other.digest }));
    await evaluateFleetHealth(prisma, { now: t0, holdDownSeconds: 0 });
    const fp = engineDriftFingerprint(n.nodeId);
    const open = await prisma.alert.findFirstOrThrow({ where: { fingerprint: fp, state: 'open' } });
    expect(open).toMatchObject({ rule: 'engine_drift', severity: 'warning', nodeId: n.nodeId, clusterId: n.clusterId });
    expect((open.details as { message: string }).message).toBe(
      `serving ${other.label} (${other.digest.slice(0, 12)}), expected ${want.label} (${want.digest.slice(0, 12)})`,
    );
    const view = await getNodeEngine(ctx, n.nodeId, t0);
    expect(view.drift).toMatchObject({ status: 'drift' });
    expect(view.reported?.servedLabel).toBe(other.label);

    const t1 = new Date(t0.getTime() + 10_000);
    await put(n, stateReport({ observedAt: t1, digest: want.digest }));
    await evaluateFleetHealth(prisma, { now: t1, holdDownSeconds: 0 });
    expect(await prisma.alert.findFirst({ where: { fingerprint: fp, state: { in: ['open', 'acknowledged'] } } })).toBeNull();
    expect((await prisma.alert.findFirstOrThrow({ where: { fingerprint: fp } })).state).toBe('resolved');
  });
  it('a newer load command is the intent (a staging load is not drift); a crashed engine is critical', async () => {
    const n = await makeNode(prisma, 1);
    const deployed = await artifact();
    const candidate = await artifact();
    await prisma.deployment.create({
      data: { clusterId: n.clusterId, artifactId: deployed.id, state: 'active', startedAt: new Date(Date.now() - 60_000) },
    });
    await prisma.nodeCommand.create({
      data: {
        nodeId: n.nodeId,
        kind: 'load_artifact',
        payload: {},
        state: 'succeeded',
        artifactId: candidate.id,
        origin: 'pipeline_step:x',
        deadlineAt: new Date(Date.now() + 60_000),
      },
    });
    const t0 = new Date();
    await put(n, stateReport({ observedAt: t0, digest: candidate.digest }));
    expect((await getNodeEngine(ctx, n.nodeId, t0)).drift.status).toBe('in_sync');
    const t1 = new Date(t0.getTime() + 1000);
    await put(n, stateReport({ observedAt: t1, state: 'crashed', served: null, lastError: 'exited with code 1' }));
    await evaluateFleetHealth(prisma, { now: t1, holdDownSeconds: 0 });
    const alert = await prisma.alert.findFirstOrThrow({ where: { fingerprint: engineDriftFingerprint(n.nodeId), state: 'open' } });
    expect(alert.severity).toBe('critical');
    expect((alert.details as { message: string }).message).toBe(
      `engine crashed: exited with code 1, expected ${candidate.label} (${candidate.digest.slice(0, 12)})`,
    );
  });
});

describe('drift beside a failed staging restore', () => {
  it('a staging node whose restore failed raises staging_restore_failed only, not drift as well; drift speaks again once that alert is gone', async () => {
    const n = await makeNode(prisma, 1);
    const deployed = await artifact();
    const candidate = await artifact();
    await prisma.deployment.create({
      data: { clusterId: n.clusterId, artifactId: deployed.id, state: 'active', startedAt: new Date(Date.now() - 60_000) },
    });
    // The validate step loaded the candidate, then could not load the deployed artifact back: the engine died on it.
    await prisma.stagingNodeLease.create({
      data: {
        nodeId: n.nodeId,
        clusterId: n.clusterId,
        holderStepId: randomUUID(),
        pipelineRunId: randomUUID(),
        candidateArtifactId: candidate.id,
        restoreKind: 'load',
        restoreArtifactId: deployed.id,
        phase: 'restore_failed',
        restoreError: 'load the previous artifact failed: CUDA out of memory',
        expiresAt: new Date(Date.now() - 1000),
      },
    });
    const t0 = new Date();
    await put(n, stateReport({ observedAt: t0, state: 'failed', served: null, lastError: 'CUDA out of memory' }));
    expect((await getNodeEngine(ctx, n.nodeId, t0)).drift.status).toBe('drift');
    await evaluateFleetHealth(prisma, { now: t0, holdDownSeconds: 0 });
    const live = async () =>
      (await prisma.alert.findMany({ where: { nodeId: n.nodeId, state: { in: ['open', 'acknowledged'] } }, select: { rule: true } })).map(
        (a) => a.rule,
      );
    expect(await live()).toEqual(['staging_restore_failed']);
    // A second pass keeps it that way (the open alert holds drift down, not only this pass's condition).
    const t1 = new Date(t0.getTime() + 5_000);
    await evaluateFleetHealth(prisma, { now: t1, holdDownSeconds: 0 });
    expect(await live()).toEqual(['staging_restore_failed']);

    // The lease is gone (an operator released the node) and its alert resolved; the node still does not serve its
    // deployment, so drift raises it now.
    await prisma.stagingNodeLease.delete({ where: { nodeId: n.nodeId } });
    const t2 = new Date(t0.getTime() + 10_000);
    await evaluateFleetHealth(prisma, { now: t2, holdDownSeconds: 0 });
    expect(await live()).toEqual([]);
    const t3 = new Date(t0.getTime() + 15_000);
    await evaluateFleetHealth(prisma, { now: t3, holdDownSeconds: 0 });
    expect(await live()).toEqual(['engine_drift']);
  });
});

describe('cluster engine settings', () => {
  const settings = {
    engineRunMode: 'child' as const,
    enginePort: 8100,
    engineReadyTimeoutSeconds: 600,
    engineDrainSeconds: 20,
    engineTensorParallelSize: 2,
    engineGpuMemoryUtilization: 0.85,
    engineKvCacheDtype: 'fp8' as const,
    engineTrustRemoteCode: true,
    engineChunkedPrefill: false,
    engineLaunchTemplate: null,
    engineStopTemplate: null,
    stagingNodeId: null as string | null,
  };
  it('saves (audited), previews, and refuses a staging node of another cluster or a bad template on its field', async () => {
    const n = await makeNode(prisma, 2);
    const stranger = await makeNode(prisma, 1);
    await updateClusterEngineSettings(ctx, { clusterId: n.clusterId, data: { ...settings, stagingNodeId: n.nodeId } });
    const got = await getClusterEngineSettings(ctx, n.clusterId);
    expect(got.settings).toMatchObject({ enginePort: 8100, stagingNodeId: n.nodeId, engineChunkedPrefill: false });
    expect(got.preview.command).toContain('--tensor-parallel-size 2');
    expect(got.preview.command).toContain('--no-enable-chunked-prefill');
    expect(got.stagingNodeOptions.map((o) => o.id)).toEqual([n.nodeId]);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'cluster.engine_settings.update', targetId: n.clusterId } });
    expect(audit.actorId).toBe(ctx.actor.id);
    await expect(
      updateClusterEngineSettings(ctx, { clusterId: n.clusterId, data: { ...settings, stagingNodeId: stranger.nodeId } }),
    ).rejects.toMatchObject({
      field: 'stagingNodeId',
    });
    await expect(
      updateClusterEngineSettings(ctx, {
        clusterId: n.clusterId,
        data: { ...settings, engineLaunchTemplate: 'vllm serve {artifact_dir} | tee x' },
      }),
    ).rejects.toMatchObject({ field: 'engineLaunchTemplate' });
    const p = await previewEngineLaunch(ctx, { clusterId: n.clusterId, data: { ...settings, engineRunMode: 'command' } });
    expect(p.command).toMatch(/^systemd-run \\\n {2}--unit=fleetplane-engine/);
    expect(p.command).toContain('# stop:\nsystemctl stop fleetplane-engine');
  });
});

describe('KV capacity on the node page', () => {
  it("puts the planner's estimate for the node beside the engine's own num_gpu_blocks x block_size, with the error", async () => {
    const n = await makeNode(prisma, 8);
    const a = await artifact();
    await prisma.artifactModelConfig.create({ data: { artifactId: a.id, source: 'config.json', body: v4FlashConfig() as object } });
    await prisma.artifact.update({ where: { id: a.id }, data: { sizeBytes: 160_000_000_000n } });
    const labels = { block_size: '256', cache_dtype: 'fp8', gpu_memory_utilization: '0.9', num_gpu_blocks: '20000', engine: '0' };
    const served = { modelIds: ['flash'], root: '/c/a', artifactDigest: a.digest, maxModelLen: 131072, cacheConfig: labels };
    await put(n, stateReport({ digest: a.digest, served }));
    const view = await getNodeEngine(ctx, n.nodeId);
    expect(view.kvCapacity?.engine).toMatchObject({ tokens: 5_120_000, blockSize: 256, cacheDtype: 'fp8' });
    // The planner's own figure for this setup (8 x H100, FP8 KV, 90 % of memory, 128K context), compared.
    const planned = await planCapacity(ctx, {
      model: { kind: 'artifact', artifactId: a.id },
      target: { kind: 'gpu', gpuModel: 'NVIDIA H100 80GB HBM3', gpuCount: 8 },
      engine: 'vllm',
      engineVersion: null,
      contextTokens: 131072,
      concurrency: 1,
      kvCacheDtype: 'fp8',
      gpuMemoryUtilization: 0.9,
      tensorParallelSize: null,
    });
    const plannedTokens = planned.plan!.kvCapacityTokens;
    expect(view.kvCapacity?.comparison).toMatchObject({ engineTokens: 5_120_000, plannedTokens });
    expect(view.kvCapacity!.comparison!.errorFraction).toBeCloseTo((plannedTokens - 5_120_000) / 5_120_000, 6);
    expect(view.kvCapacity?.note).toBeNull();
  });
  it('says why there is no comparison, and says nothing when the engine does not report its cache', async () => {
    const n = await makeNode(prisma, 1);
    const labels = { block_size: '16', num_gpu_blocks: '65536' };
    await put(n, stateReport({ served: { modelIds: ['x'], root: '/c/x', artifactDigest: null, maxModelLen: 4096, cacheConfig: labels } }));
    const view = await getNodeEngine(ctx, n.nodeId);
    expect(view.kvCapacity).toMatchObject({
      engine: { tokens: 1_048_576 },
      comparison: null,
      note: expect.stringContaining('did not deliver'),
    });
    const quiet = await makeNode(prisma, 1);
    await put(quiet, stateReport());
    expect((await getNodeEngine(ctx, quiet.nodeId)).kvCapacity).toBeNull();
  });
});
