// Proves the role matrix for EVERY procedure of the app router: unauthenticated -> UNAUTHORIZED,
// a role below the procedure's minimum -> FORBIDDEN, its minimum role and above -> success; and every
// successful mutation leaves an audit event naming its caller. A procedure added without an entry in
// SAMPLE_INPUTS fails this test, so the matrix cannot silently fall behind the router.
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type TRole } from '@fleetplane/contracts';
import { DEFAULT_ENGINES, roleAtLeast } from '@fleetplane/domain';
import { v4FlashConfig } from '@fleetplane/domain/capacity/test-support';
import { appRouter } from './root';
import { startFakeHub } from '@fleetplane/fake-hub';
import { createHarness, randomGpuUuid, uniqueName, type Harness } from './testing/harness';
import { finaliseRun, syncSuites } from '@fleetplane/services';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

async function site() {
  return h.prisma.site.create({ data: { name: uniqueName('site'), region: 'eu-west', dataResidency: 'eu' } });
}
async function cluster() {
  const s = await site();
  return h.prisma.cluster.create({
    data: { name: uniqueName('c'), siteId: s.id, servingEngine: 'vllm', engineVersion: '0.11.2', maxContextTokens: 131072 },
  });
}
async function node() {
  const c = await cluster();
  return h.prisma.node.create({ data: { clusterId: c.id, hostname: uniqueName('n') } });
}
async function gpu() {
  const n = await node();
  return h.prisma.gpu.create({
    data: { nodeId: n.id, uuid: randomGpuUuid(), index: 0, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvlink' },
  });
}
const clusterFields = async () => ({
  name: uniqueName('cl'),
  siteId: (await site()).id,
  servingEngine: 'vllm' as const,
  engineVersion: '0.11.2',
  endpointUrl: 'http://127.0.0.1:8000',
  maxContextTokens: 131072,
  gpuHourlyCostUsd: 2.5,
});

const engineSettings = () => ({
  engineRunMode: 'child' as const,
  enginePort: 8000,
  engineReadyTimeoutSeconds: 1800,
  engineDrainSeconds: 30,
  engineTensorParallelSize: null,
  engineGpuMemoryUtilization: 0.9,
  engineKvCacheDtype: 'fp8' as const,
  engineTrustRemoteCode: true,
  engineChunkedPrefill: true,
  engineLaunchTemplate: null,
  engineStopTemplate: null,
  stagingNodeId: null,
});

type Sample = () => Promise<unknown>;
const SAMPLE_INPUTS: Record<string, Sample> = {
  'me.get': async () => undefined,
  'fleet.summary': async () => undefined,
  'sites.list': async () => undefined,
  'sites.create': async () => ({ name: uniqueName('s'), region: 'us-east', dataResidency: 'us' }),
  'sites.update': async () => ({ id: (await site()).id, data: { name: uniqueName('s'), region: 'us-east', dataResidency: 'us' } }),
  'sites.delete': async () => ({ id: (await site()).id }),
  'clusters.list': async () => ({ page: 1, pageSize: 10 }),
  'clusters.get': async () => ({ id: (await cluster()).id }),
  'clusters.options': async () => undefined,
  'clusters.create': clusterFields,
  'clusters.update': async () => ({ id: (await cluster()).id, data: await clusterFields() }),
  'clusters.delete': async () => ({ id: (await cluster()).id }),
  'engine.clusterSettings': async () => ({ clusterId: (await cluster()).id }),
  'engine.previewLaunch': async () => ({ clusterId: (await cluster()).id, data: engineSettings() }),
  'engine.updateClusterSettings': async () => ({ clusterId: (await cluster()).id, data: engineSettings() }),
  'engine.nodeState': async () => ({ nodeId: (await node()).id }),
  'engine.updateNodeTemplate': async () => ({ nodeId: (await node()).id, engineLaunchTemplate: 'vllm serve {artifact_dir} --port {port}' }),
  'nodes.list': async () => ({ page: 1, pageSize: 10 }),
  'nodes.get': async () => ({ id: (await node()).id }),
  'nodes.create': async () => ({ clusterId: (await cluster()).id, hostname: uniqueName('host') }),
  'nodes.update': async () => ({
    id: (await node()).id,
    data: { hostname: uniqueName('host'), ipAddress: '10.0.0.7', labels: { rack: 'r1' } },
  }),
  'nodes.delete': async () => ({ id: (await node()).id }),
  'gpus.get': async () => ({ id: (await gpu()).id }),
  'gpus.create': async () => ({
    nodeId: (await node()).id,
    uuid: randomGpuUuid(),
    index: 0,
    model: 'NVIDIA H200',
    memoryMib: 143771,
    interconnect: 'nvlink',
  }),
  'gpus.update': async () => ({
    id: (await gpu()).id,
    data: { index: 1, model: 'NVIDIA H200', memoryMib: 143771, interconnect: 'nvswitch', pciBusId: '00000000:18:00.0' },
  }),
  'gpus.delete': async () => ({ id: (await gpu()).id }),
  'users.list': async () => ({ page: 1, pageSize: 10 }),
  'users.create': async () => ({
    email: `${uniqueName('u')}@test.local`,
    name: 'New User',
    role: 'viewer',
    password: 'a-long-enough-password',
  }),
  'users.setRole': async () => ({ userId: await freshUser(), role: 'operator' }),
  'users.setDisabled': async () => ({ userId: await freshUser(), disabled: true }),
  'users.resetPassword': async () => ({ userId: await freshUser(), password: 'another-long-password' }),
  'audit.list': async () => ({ page: 1, pageSize: 10 }),
  'audit.facets': async () => undefined,
  'joinTokens.list': async () => ({ clusterId: (await cluster()).id }),
  'joinTokens.create': async () => ({ clusterId: (await cluster()).id, expiresInMinutes: 30, description: 'rack r12' }),
  'joinTokens.revoke': async () => ({
    id: (
      await h.prisma.joinToken.create({
        data: {
          clusterId: (await cluster()).id,
          tokenHash: randomGpuUuid(),
          tokenPrefix: 'fpj_test',
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      })
    ).id,
  }),
  'nodeCredentials.list': async () => ({ nodeId: (await node()).id }),
  'nodeCredentials.revoke': async () => ({
    id: (await h.prisma.nodeCredential.create({ data: { nodeId: (await node()).id, tokenHash: randomGpuUuid(), tokenPrefix: 'fpa_test' } }))
      .id,
  }),
  'fleetHealth.utilisation': async () => undefined,
  'fleetHealth.clusterGrid': async () => ({ clusterId: (await cluster()).id }),
  'fleetHealth.gpu': async () => ({ id: (await gpu()).id }),
  'fleetHealth.gpuSeries': async () => ({ gpuId: (await gpu()).id, range: '24h' }),
  'alerts.list': async () => ({ page: 1, pageSize: 10, states: ['open'] }),
  'alerts.counts': async () => undefined,
  'alerts.acknowledge': async () => {
    const fingerprint = `test:${uniqueName('alert')}`;
    const alert = await h.prisma.alert.create({
      data: { fingerprint, activeKey: fingerprint, rule: 'ecc_uncorrected', severity: 'critical', title: 'test alert' },
    });
    return { id: alert.id };
  },
  'proposals.list': async () => ({ page: 1, pageSize: 10, state: 'pending_approval' }),
  'proposals.get': async () => ({ id: (await proposal()).id }),
  'proposals.decisionState': async () => ({ id: (await proposal()).id }),
  'proposals.create': async () => ({ artifactId: (await artifact()).id, clusterId: (await cluster()).id, reason: 'role matrix' }),
  'proposals.approve': async () => ({ id: (await proposal()).id, comment: 'ok' }),
  'proposals.reject': async () => ({ id: (await proposal()).id, reason: 'not on this evidence' }),
  'proposals.updatePolicy': async () => ({
    clusterId: (await cluster()).id,
    approvalsRequired: 2,
    proposalExpiryDays: 5,
    gatingSuiteName: null,
  }),
  'validationSuites.list': async () => undefined,
  'validationRuns.list': async () => ({ page: 1, pageSize: 10, state: 'failed' }),
  'validationRuns.get': async () => ({ id: (await validationRun(true)).id }),
  'validationRuns.evidence': async () => ({ id: (await validationRun(true)).id }),
  'validationRuns.compare': async () => ({ id: (await validationRun(true)).id }),
  'validationRuns.start': async () => {
    await syncSuites(h.prisma);
    const c = await h.prisma.cluster.update({
      where: { id: (await cluster()).id },
      data: { endpointUrl: 'http://127.0.0.1:9', servedModelName: 'deepseek-ai/DeepSeek-V4-Flash' },
    });
    return { clusterId: c.id, suiteName: 'smoke' };
  },
  'validationRuns.cancel': async () => ({ id: (await validationRun(false)).id }),
  'models.families': async () => undefined,
  'models.listRepos': async () => undefined,
  'models.getRepo': async () => ({ id: (await trackedRepo()).id }),
  'models.createRepo': async () => ({
    familyId: (await modelFamily()).id,
    hubRepoId: `acme/${uniqueName('m')}`,
    filePatterns: ['*.safetensors'],
  }),
  'models.updateRepo': async () => {
    const r = await trackedRepo();
    return {
      id: r.id,
      data: {
        familyId: r.familyId,
        hubRepoId: r.hubRepoId,
        branch: 'main',
        filePatterns: ['*.safetensors', '*.json'],
        autoStartPipelines: true,
      },
    };
  },
  'models.deleteRepo': async () => ({ id: (await trackedRepo()).id }),
  'models.checkNow': async () => ({ id: (await trackedRepo()).id }),
  'models.revisions': async () => ({ page: 1, pageSize: 10 }),
  'models.revision': async () => ({ id: (await modelRevision()).id }),
  'pipelines.list': async () => ({ page: 1, pageSize: 10, state: 'failed' }),
  'pipelines.get': async () => ({ id: (await pipelineRun('failed')).id }),
  'pipelines.start': async () => ({ revisionId: (await modelRevision()).id }),
  'pipelines.cancel': async () => ({ id: (await pipelineRun('queued')).id }),
  'pipelines.retry': async () => ({ id: (await pipelineRun('failed')).id }),
  'pipelines.retryStep': async () => ({ stepId: (await pipelineRun('failed')).steps[0]!.id }),
  'demo.status': async () => undefined,
  'networkPolicy.get': async () => undefined,
  // Loopback stays allowed: the dev-panel sample below talks to a fake Hub on loopback.
  'networkPolicy.update': async () => ({ allowLoopback: true }),
  'demo.publishRevision': async () => {
    // The dev panel reaches the demo hub on loopback, which only the admin setting allows.
    await allowLoopbackForTests(h.prisma);
    const hub = await demoHub();
    const r = await trackedRepo();
    await h.prisma.trackedRepo.update({ where: { id: r.id }, data: { hubRepoId: `demo/r${demoRepoIndex++}`, hubEndpoint: hub.url } });
    return { trackedRepoId: r.id, kind: 'docs' };
  },
  'capacity.plannerOptions': async () => undefined,
  'capacity.plan': async () => ({
    model: { kind: 'config', configJson: JSON.stringify(v4FlashConfig()), weightsBytes: 160e9, format: 'fp4_fp8' },
    target: { kind: 'gpu', gpuModel: 'NVIDIA B200', gpuCount: 1 },
    engine: 'vllm',
    engineVersion: '0.20.0',
    contextTokens: 32768,
    concurrency: 4,
  }),
  'capacity.clusterCompatibility': async () => ({ clusterId: (await cluster()).id }),
  'capacity.revisionCompatibility': async () => ({ revisionId: (await modelRevision()).id }),
  'capacity.cost': async () => ({ clusterId: (await cluster()).id, window: '24h' }),
  'recipes.list': async () => ({ page: 1, pageSize: 10 }),
  'recipes.versions': async () => ({ name: 'fp8-block128' }),
  'recipes.create': async () => ({
    name: `r-${Math.random().toString(36).slice(2, 10)}`,
    outputFormat: 'gguf' as const,
    toolVersion: '1',
    params: { target: { format: 'gguf' as const, type: 'Q8_0' as const } },
  }),
  // A different threshold each call: every call is a real new version.
  'recipes.newVersion': async () => ({
    name: 'gguf-q8_0',
    outputFormat: 'gguf' as const,
    toolVersion: '1',
    params: { target: { format: 'gguf' as const, type: 'Q8_0' as const }, thresholds: { maxRelRmse: 0.01 + Math.random() / 10 } },
  }),
  'recipes.buildTargets': async () => ({ trackedRepoId: (await trackedRepo()).id }),
  'recipes.setBuildTargets': async () => ({ trackedRepoId: (await trackedRepo()).id, clusterId: (await cluster()).id, recipeNames: [] }),
  'artifacts.get': async () => ({ id: (await artifact()).id }),
  'catalog.gpus': async () => undefined,
  'catalog.engines': async () => undefined,
  'catalog.apiPrices': async () => undefined,
  'catalog.createGpu': async () => catalogGpuFields(),
  'catalog.updateGpu': async () => {
    const fields = catalogGpuFields();
    const row = await h.prisma.catalogGpu.create({ data: fields });
    return { id: row.id, data: { ...fields, typicalHourlyUsd: 2.75 } };
  },
  'catalog.deleteGpu': async () => ({ id: (await h.prisma.catalogGpu.create({ data: catalogGpuFields() })).id }),
  'catalog.updateEngine': async () => {
    const { kind: _kind, ...data } = DEFAULT_ENGINES.find((e) => e.kind === 'vllm')!;
    return { kind: 'vllm', data };
  },
  'nodeCommands.list': async () => ({ nodeId: (await node()).id, page: 1, pageSize: 10 }),
  'nodeCommands.cancel': async () => ({ id: (await nodeCommand()).id }),
  'nodeCommands.issueEngineCommand': async () => ({ nodeId: (await node()).id, kind: 'restart_engine', reason: 'role matrix' }),
  'catalog.updateApiPrice': async () => ({
    family: uniqueName('fam'),
    data: { inputPerM: 0.14, outputPerM: 0.28, cacheHitInputPerM: 0.0028, asOf: '2026-12-01' },
  }),
  'rollouts.list': async () => ({ page: 1, pageSize: 10 }),
  'rollouts.get': async () => ({ id: (await rolloutRow('pending')).id }),
  'rollouts.history': async () => ({ clusterId: (await cluster()).id }),
  'rollouts.provenance': async () => ({ nodeId: (await node()).id }),
  'rollouts.policy': async () => ({ clusterId: (await cluster()).id }),
  'rollouts.start': async () => ({ proposalId: (await approvedProposal()).id }),
  'rollouts.rollback': async () => {
    const { clusterId, artifactId } = await rolloutTarget();
    const d = await h.prisma.deployment.create({ data: { clusterId, artifactId, state: 'retired' } });
    return { deploymentId: d.id, reason: 'role matrix' };
  },
  'rollouts.pause': async () => ({ id: (await rolloutRow('pending')).id }),
  'rollouts.resume': async () => ({ id: (await rolloutRow('paused')).id }),
  'rollouts.promote': async () => ({ id: (await rolloutRow('analysing')).id }),
  'rollouts.abort': async () => ({ id: (await rolloutRow('pending')).id }),
  'rollouts.updatePolicy': async () => ({
    clusterId: (await cluster()).id,
    policy: {
      canaryNodes: 1,
      canarySharePct: null,
      waves: 2,
      analysisIntervalSeconds: 60,
      analysisChecks: 5,
      failureLimit: 0,
      maxTtftP99Ratio: 1.5,
      maxTtftP99Seconds: null,
      maxErrorRatePct: 1,
      minTokensPerSecondRatio: 0.8,
      failOnNoTraffic: true,
      autoRolloutOnApproval: false,
    },
  }),
};

/** A cluster with one node and a servable artifact (one file), what every rollout needs. */
async function rolloutTarget() {
  const n = await node();
  const revision = await modelRevision();
  const digest = randomGpuUuid()
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase()
    .padEnd(64, 'a')
    .slice(0, 64);
  const artifact = await h.prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: 'safetensors',
      quantisation: 'FP8',
      sizeBytes: 1n,
      digest,
      storageUri: 'file:///tmp/x',
      files: { create: [{ path: 'model.safetensors', sizeBytes: 1n, sha256: digest }] },
    },
  });
  return { clusterId: n.clusterId, nodeId: n.id, artifactId: artifact.id, digest };
}
/** Approved by someone with no request of their own (a pipeline proposal), so any caller may start it. */
async function approvedProposal() {
  const t = await rolloutTarget();
  const approver = await freshUser();
  return h.prisma.upgradeProposal.create({
    data: {
      clusterId: t.clusterId,
      artifactId: t.artifactId,
      artifactDigest: t.digest,
      evidenceDigest: t.digest,
      origin: 'pipeline',
      state: 'approved',
      expiresAt: new Date(Date.now() + 86_400_000),
      approvals: { create: [{ approverId: approver, decision: 'approve', artifactDigest: t.digest, evidenceDigest: t.digest }] },
    },
  });
}
async function rolloutRow(state: 'pending' | 'paused' | 'analysing') {
  const t = await rolloutTarget();
  return h.prisma.rollout.create({
    data: {
      clusterId: t.clusterId,
      activeClusterId: t.clusterId,
      artifactId: t.artifactId,
      state,
      policy: {},
      stepCount: 1,
      pausedFrom: state === 'paused' ? 'canary' : null,
      windowStartedAt: state === 'analysing' ? new Date() : null,
      nodes: { create: [{ nodeId: t.nodeId, step: 0, state: 'pending' }] },
    },
  });
}

function catalogGpuFields() {
  return {
    model: uniqueName('GPU'),
    vendor: 'nvidia' as const,
    generation: 'hopper' as const,
    memoryMib: 81559,
    computeCapability: '9.0',
    fp8TensorCores: true,
    fp4TensorCores: false,
    interconnect: 'nvswitch',
    typicalHourlyUsd: 2.5,
  };
}

// One fake Hub for the dev-panel procedure, started on first use; it ends with the test process.
let demoHubStarted: ReturnType<typeof startFakeHub> | undefined;
let demoRepoIndex = 0;
function demoHub() {
  const repos = Array.from({ length: 20 }, (_, i) => ({ id: `demo/r${i}`, commits: [{ title: 'init', files: { 'README.md': '# r\n' } }] }));
  demoHubStarted ??= startFakeHub({ repos, onWarning: () => undefined });
  return demoHubStarted;
}

/** A queued stop command, as a pipeline step would issue it (no user). */
async function nodeCommand() {
  return h.prisma.nodeCommand.create({
    data: {
      nodeId: (await node()).id,
      kind: 'stop_engine',
      payload: { drainSeconds: 0 },
      origin: 'system',
      deadlineAt: new Date(Date.now() + 3600_000),
    },
  });
}

async function modelFamily() {
  const slug = uniqueName('fam');
  return h.prisma.modelFamily.create({ data: { slug, name: slug, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 } });
}
async function trackedRepo() {
  return h.prisma.trackedRepo.create({
    data: { familyId: (await modelFamily()).id, hubRepoId: `acme/${uniqueName('r')}`, filePatterns: ['*.safetensors'] },
  });
}
async function modelRevision() {
  const sha = randomGpuUuid()
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase()
    .padEnd(40, '0')
    .slice(0, 40);
  return h.prisma.modelRevision.create({ data: { trackedRepoId: (await trackedRepo()).id, commitSha: sha, changeClass: 'initial' } });
}
async function pipelineRun(state: 'queued' | 'failed') {
  const step = state === 'failed' ? ('failed' as const) : ('queued' as const);
  return h.prisma.pipelineRun.create({
    data: {
      revisionId: (await modelRevision()).id,
      targetKey: 'default',
      trigger: 'manual',
      state,
      steps: { create: [{ kind: 'download', position: 0, state: step }] },
    },
    include: { steps: true },
  });
}

async function artifact() {
  return h.prisma.artifact.create({
    data: {
      revisionId: (await modelRevision()).id,
      format: 'fp8',
      quantisation: 'FP8',
      sizeBytes: 1_000_000n,
      digest: `sha256:${uniqueName('a')}`,
      storageUri: 'file:///nonexistent/role-matrix',
    },
  });
}
/** An open proposal from the pipeline (no requester), so every approver may decide on it. */
async function proposal() {
  const a = await artifact();
  return h.prisma.upgradeProposal.create({
    data: {
      clusterId: (await cluster()).id,
      artifactId: a.id,
      artifactDigest: a.digest,
      origin: 'pipeline',
      evidenceDigest: `sha256:${uniqueName('e')}`,
      state: 'pending_approval',
      expiresAt: new Date(Date.now() + 86_400_000),
    },
  });
}

/** A queued run, or a sealed one (finalised without jobs: every check an error) that has evidence. */
async function validationRun(finished: boolean) {
  await syncSuites(h.prisma);
  const suite = await h.prisma.validationSuite.findFirstOrThrow({ where: { name: 'smoke' }, orderBy: { version: 'desc' } });
  const run = await h.prisma.validationRun.create({
    data: { suiteId: suite.id, clusterId: (await cluster()).id, checks: { create: [{ checkKey: 'endpoint', kind: 'endpoint' }] } },
  });
  if (finished) await finaliseRun(h.prisma, run.id, { lostReason: 'Role-matrix fixture.' });
  return run;
}

async function freshUser() {
  const u = await h
    .caller(h.users.admin)
    .users.create({ email: `${uniqueName('x')}@test.local`, name: 'X', role: 'viewer', password: 'a-long-enough-password' });
  return u.id;
}

const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { minRole?: TRole }; type: string } }>,
);

async function call(user: Parameters<Harness['caller']>[0], path: string, input: unknown) {
  const caller = h.caller(user) as unknown as Record<string, Record<string, (i: unknown) => Promise<unknown>>>;
  const [ns, name] = path.split('.') as [string, string];
  return caller[ns]![name]!(input);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof TRPCError ? e.code : `THREW ${(e as Error).message}`;
  }
}

describe('role matrix', () => {
  it('covers every procedure and each declares a minimum role', () => {
    expect(procedures.length).toBeGreaterThan(20);
    for (const [path, proc] of procedures) {
      expect(proc._def.meta?.minRole, `${path} has no minRole`).toBeDefined();
      expect(SAMPLE_INPUTS[path], `${path} has no sample input in the role-matrix test`).toBeDefined();
    }
  });

  for (const [path, proc] of procedures) {
    const minRole = proc._def.meta?.minRole as TRole;
    describe(`${path} (min ${minRole})`, () => {
      it('refuses an unauthenticated caller with UNAUTHORIZED', async () => {
        expect(await codeOf(call(null, path, await SAMPLE_INPUTS[path]!()))).toBe('UNAUTHORIZED');
      });
      for (const role of ROLES) {
        const allowed = roleAtLeast(role, minRole);
        it(`${allowed ? 'allows' : 'forbids'} ${role}`, async () => {
          const input = await SAMPLE_INPUTS[path]!();
          const before = await h.prisma.auditEvent.count({ where: { actorId: h.users[role].id } });
          const code = await codeOf(call(h.users[role], path, input));
          expect(code).toBe(allowed ? 'OK' : 'FORBIDDEN');
          const after = await h.prisma.auditEvent.count({ where: { actorId: h.users[role].id } });
          if (allowed && proc._def.type === 'mutation')
            expect(after, 'a successful mutation records an audit event').toBeGreaterThan(before);
          else expect(after).toBe(before);
        });
      }
    });
  }
});
