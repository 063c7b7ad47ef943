// Commands end to end with the real agent: its esbuild bundle as a process, talking over HTTP to the real
// agent API handlers (commands, reports, node state, artifact files) on the real database, launching the
// reference endpoint from tools/ as its engine through the node's launch template. Covers a load that ends
// with the engine serving the artifact, a cancel mid-download, and a kill -9 mid-command that converges on
// one outcome after the agent restarts.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactRefFor, cancelNodeCommand, issueNodeCommand, updateNodeEngineTemplate, waitForNodeCommand } from '@fleetplane/services';
import { makeStoredArtifact } from '@fleetplane/services/artifacts/test-support';
import { makeNode, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { freePort, referenceEngineTemplate, until, useRealAgent } from './real-agent-test-support';

const setup = useRealAgent();
const { prisma } = setup;
const agentDirs = (node: TestNode) => setup.harness.agentDirs(node);
const startAgent = (dirs: ReturnType<typeof agentDirs>, port: number) => setup.harness.startAgent(dirs, port);
const makeArtifact = (files: Record<string, Buffer>) => makeStoredArtifact(prisma, setup.harness.work, files);

async function prefetch(node: TestNode, artifact: { id: string }, bandwidthMbps: number | null) {
  const { id } = await issueNodeCommand(prisma, {
    nodeId: node.nodeId,
    command: { kind: 'prefetch_artifact', payload: { artifact: await artifactRefFor(prisma, artifact.id), bandwidthMbps } },
    origin: 'test',
    artifactId: artifact.id,
  });
  return id;
}

const commandRow = (id: string) =>
  prisma.nodeCommand.findUniqueOrThrow({
    where: { id },
    select: { state: true, progress: true, result: true, error: true, deliveries: true },
  });

describe('the agent runs commands from the control plane', () => {
  it('load_artifact: downloads the artifact through the artifact route, launches the reference endpoint on it, reports succeeded and the node state shows it served; stop_engine stops it', async () => {
    const node = await makeNode(prisma, 0);
    await updateNodeEngineTemplate(setup.ctx, {
      nodeId: node.nodeId,
      engineLaunchTemplate: referenceEngineTemplate('flash'),
    });
    const art = await makeArtifact({
      'config.json': Buffer.from('{"model_type":"deepseek_v4"}'),
      'model.safetensors': randomBytes(256 * 1024),
    });
    const agent = startAgent(agentDirs(node), await freePort());
    const done = await setup.loadArtifact(node.nodeId, art.id);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    expect(done.result).toMatchObject({
      artifactDigest: art.digest,
      servedModelIds: ['flash'],
      endpointUrl: `http://127.0.0.1:${agent.port}`,
    });

    const served = await until('the node state to show the artifact served', async () => {
      const rs = await setup.runtimeOf(node.nodeId);
      return rs?.servedArtifactDigest === art.digest && rs.engineState === 'ready' ? rs : null;
    });
    expect(served.servedModelIds).toEqual(['flash']);
    const models = (await (await fetch(`http://127.0.0.1:${agent.port}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['flash']);

    const stop = await issueNodeCommand(prisma, {
      nodeId: node.nodeId,
      command: { kind: 'stop_engine', payload: { drainSeconds: 0 } },
      origin: 'test',
    });
    expect(await waitForNodeCommand(prisma, stop.id, { timeoutMs: 30_000 })).toMatchObject({
      state: 'succeeded',
      result: { state: 'stopped' },
    });
    await expect(fetch(`http://127.0.0.1:${agent.port}/v1/models`)).rejects.toThrow();
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 150_000);

  it('a cancel mid-download stops the handler: the command ends cancelled and the artifact is not complete in the cache', async () => {
    const node = await makeNode(prisma, 0);
    // 6 MB at 8 Mbit/s: about six seconds of download to cancel in.
    const art = await makeArtifact({ 'model.safetensors': randomBytes(6 * 1024 * 1024) });
    const agent = startAgent(agentDirs(node), await freePort());
    const id = await prefetch(node, art, 8);
    await until('download progress', async () => {
      const row = await commandRow(id);
      return row.state === 'running' && ((row.progress as { bytesDone?: number } | null)?.bytesDone ?? 0) > 0;
    });
    await cancelNodeCommand(setup.ctx, id);
    await until('the agent to stop the command', async () => agent.logs().some((l) => l.msg === 'command stopped' && l.commandId === id));
    expect((await commandRow(id)).state).toBe('cancelled');
    const rs = (
      await until('a node state report after the cancel', async () => {
        const r = await setup.runtimeOf(node.nodeId);
        return r ? { r } : null;
      })
    ).r;
    const cached = ((rs.cache as { artifacts?: Array<{ digest: string; complete: boolean }> }).artifacts ?? []).find(
      (a) => a.digest === art.digest,
    );
    expect(cached?.complete ?? false).toBe(false);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 60_000);

  it('kill -9 mid-command, then a restart: the command runs again with delivery 2, resumes the download and finishes once', async () => {
    const node = await makeNode(prisma, 0);
    const bytes = 6 * 1024 * 1024;
    const art = await makeArtifact({ 'model.safetensors': randomBytes(bytes) });
    const dirs = agentDirs(node);
    const first = startAgent(dirs, await freePort());
    const id = await prefetch(node, art, 16);
    await until('download progress', async () => {
      const row = await commandRow(id);
      return row.state === 'running' && ((row.progress as { bytesDone?: number } | null)?.bytesDone ?? 0) > 1024 * 1024;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await commandRow(id)).state).toBe('running');

    const second = startAgent(dirs, first.port);
    const done = await waitForNodeCommand(prisma, id, { timeoutMs: 60_000 });
    expect(done).toMatchObject({ state: 'succeeded', error: null, result: { digest: art.digest, alreadyComplete: false } });
    // Resumed: the second run fetched only what the first had not.
    expect((done.result as { downloadedBytes: number }).downloadedBytes).toBeLessThan(bytes);
    const runs = second.logs().filter((l) => l.msg === 'running command' && l.commandId === id);
    expect(runs.map((l) => l.delivery)).toEqual([2]);
    await until('the outcome acknowledged', async () =>
      second.logs().some((l) => l.msg === 'command outcome reported' && l.commandId === id),
    );
    expect(readFileSync(path.join(dirs.base, 'commands-journal.json'), 'utf8')).not.toContain(id);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
