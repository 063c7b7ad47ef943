// Commands end to end with the real agent: its esbuild bundle as a process, talking over HTTP to the real
// agent API handlers (commands, reports, node state, artifact files) on the real database, launching the
// reference endpoint from tools/ as its engine through the node's launch template. Covers a load that ends
// with the engine serving the artifact, a cancel mid-download, and a kill -9 mid-command that converges on
// one outcome after the agent restarts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AGENT_API_PATHS } from '@fleetplane/contracts';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { artifactRefFor } from '../artifacts/artifact-ref';
import { handleArtifactFileRequest } from '../artifacts/artifact-http';
import type { ServiceContext } from '../context';
import { updateNodeEngineTemplate } from '../engine/engine-settings.service';
import { engineLaunchSpecFor } from '../engine/launch-spec.service';
import { handleNodeStateRequest } from '../engine/node-state-http';
import { makeNode, testDeps, unique, type TestNode } from '../telemetry/test-support';
import { handleCommandPollRequest, handleCommandReportRequest } from './agent-commands-http';
import { NodeCommandNotifier } from './command-notifier';
import { cancelNodeCommand, issueNodeCommand, waitForNodeCommand } from './node-commands.service';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REFERENCE_CLI = path.join(ROOT, 'tools/reference-endpoint/src/cli.ts');

const deps = testDeps();
const { prisma } = deps;
const notifier = new NodeCommandNotifier(inject('databaseUrl')).start();
const http = { ...deps, notifier };

let work: string;
let bundle: string;
let server: Server;
let serverUrl: string;
let ctx: ServiceContext;
const children = new Set<ChildProcess>();
const engineStateFiles: string[] = [];

/** The agent API routes as the Next.js app mounts them, on a plain Node server (the handlers are Web-standard). */
async function route(req: Request): Promise<Response> {
  const p = new URL(req.url).pathname;
  if (p === AGENT_API_PATHS.commands) return handleCommandPollRequest(http, req);
  const report = /^\/api\/agent\/v1\/commands\/([^/]+)\/report$/.exec(p);
  if (report) return handleCommandReportRequest(deps, req, decodeURIComponent(report[1]!));
  if (p === AGENT_API_PATHS.nodeState) return handleNodeStateRequest(deps, req);
  const file = /^\/api\/agent\/v1\/artifacts\/([^/]+)\/files\/(.+)$/.exec(p);
  if (file)
    return handleArtifactFileRequest(deps, req, {
      artifactId: decodeURIComponent(file[1]!),
      path: file[2]!.split('/').map(decodeURIComponent),
    });
  return new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }), { status: 404 });
}

function startServer(): Promise<Server> {
  const srv = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const aborted = new AbortController();
      res.on('close', () => aborted.abort());
      const headers = new Headers();
      for (const name of ['authorization', 'content-type', 'range', 'if-range', 'accept'])
        if (typeof req.headers[name] === 'string') headers.set(name, req.headers[name]);
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
        signal: aborted.signal,
      });
      const response = await route(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) {
        try {
          const reader = response.body.getReader();
          for (let r = await reader.read(); !r.done; r = await reader.read()) {
            if (!res.write(r.value)) await new Promise((resolve) => res.once('drain', resolve));
          }
        } catch {
          // The agent went away mid-stream (cancelled or killed).
        }
      }
      res.end();
    })().catch(() => res.destroy());
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Agent {
  dirs: { base: string; queue: string; cache: string; credential: string };
  port: number;
  logs(): Array<Record<string, unknown> & { msg: string }>;
  exited: Promise<number | null>;
  child: ChildProcess;
}

function agentDirs(node: TestNode) {
  const base = mkdtempSync(path.join(work, 'agent-'));
  const credential = path.join(base, 'agent.json');
  writeFileSync(
    credential,
    JSON.stringify({ server: serverUrl, nodeId: node.nodeId, clusterId: node.clusterId, credential: node.credential }),
    { mode: 0o600 },
  );
  engineStateFiles.push(path.join(base, 'engine-state.json'));
  return { base, queue: path.join(base, 'queue'), cache: path.join(base, 'model-cache'), credential };
}

function startAgent(dirs: Agent['dirs'], port: number): Agent {
  const child = spawn(
    process.execPath,
    [
      bundle,
      'run',
      '--interval',
      '2',
      '--nvidia-smi',
      path.join(ROOT, 'tools/fake-nvidia-smi/bin/nvidia-smi'),
      '--queue-dir',
      dirs.queue,
      '--cache-dir',
      dirs.cache,
      '--credential-path',
      dirs.credential,
      '--engine-bind-host',
      '127.0.0.1',
      '--engine-port',
      String(port),
    ],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, FLEETPLANE_AGENT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  return {
    dirs,
    port,
    child,
    exited,
    logs: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string }),
  };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function makeArtifact(files: Record<string, Buffer>) {
  const dir = path.join(work, unique('store'));
  for (const [p, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), bytes);
  }
  const manifest = Object.entries(files).map(([p, b]) => ({
    path: p,
    sizeBytes: b.length,
    sha256: createHash('sha256').update(b).digest('hex'),
  }));
  const fam = await prisma.modelFamily.upsert({
    where: { slug: 'deepseek-v4-flash' },
    create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
    update: {},
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: fam.id, hubRepoId: `deepseek-ai/${unique('V4')}`, filePatterns: ['*'] },
  });
  const revision = await prisma.modelRevision.create({
    data: { trackedRepoId: repo.id, commitSha: randomBytes(20).toString('hex'), changeClass: 'initial' },
  });
  const digest = manifestDigest(manifest);
  const a = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: 'fp8',
      quantisation: 'FP8',
      sizeBytes: BigInt(manifest.reduce((n, f) => n + f.sizeBytes, 0)),
      digest,
      storageUri: pathToFileURL(dir).href,
      files: { createMany: { data: manifest.map((f) => ({ ...f, sizeBytes: BigInt(f.sizeBytes) })) } },
    },
  });
  return { id: a.id, digest };
}

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

async function killEngines() {
  for (const file of engineStateFiles) {
    try {
      const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid: number | null }).pid;
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      // no engine, or already gone
    }
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'fp-agent-commands-'));
  bundle = path.join(work, 'fleetplane-agent.mjs');
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'apps/agent/build.mjs'), '--outfile', bundle]);
  server = await startServer();
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const userId = randomUUID();
  await prisma.user.create({ data: { id: userId, email: `${userId}@test.local`, name: 'op', role: 'operator' } });
  ctx = { prisma, actor: { type: 'user', id: userId, label: `${userId}@test.local` } };
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await killEngines();
  await new Promise((r) => server.close(r));
  await notifier.close();
  await prisma.$disconnect();
  await deps.pool.end();
  await rm(work, { recursive: true, force: true });
});

describe('the agent runs commands from the control plane', () => {
  it('load_artifact: downloads the artifact through the artifact route, launches the reference endpoint on it, reports succeeded and the node state shows it served; stop_engine stops it', async () => {
    const node = await makeNode(prisma, 0);
    await updateNodeEngineTemplate(ctx, {
      nodeId: node.nodeId,
      engineLaunchTemplate: `${process.execPath} --import tsx ${REFERENCE_CLI} serve --engine vllm --artifact-dir {artifact_dir} --host {host} --port {port} --served-model-name flash --ttft-ms 1 --itl-ms 1`,
    });
    const art = await makeArtifact({
      'config.json': Buffer.from('{"model_type":"deepseek_v4"}'),
      'model.safetensors': randomBytes(256 * 1024),
    });
    const agent = startAgent(agentDirs(node), await freePort());
    const launch = await engineLaunchSpecFor(prisma, { nodeId: node.nodeId, artifactId: art.id });
    const { id } = await issueNodeCommand(prisma, {
      nodeId: node.nodeId,
      command: { kind: 'load_artifact', payload: { artifact: await artifactRefFor(prisma, art.id), launch, bandwidthMbps: null } },
      origin: 'test',
      artifactId: art.id,
    });
    const done = await waitForNodeCommand(prisma, id, { timeoutMs: 90_000 });
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    expect(done.result).toMatchObject({
      artifactDigest: art.digest,
      servedModelIds: ['flash'],
      endpointUrl: `http://127.0.0.1:${agent.port}`,
    });

    const served = await until('the node state to show the artifact served', async () => {
      const rs = (await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId }, select: { runtimeState: true } })).runtimeState;
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
    await cancelNodeCommand(ctx, id);
    await until('the agent to stop the command', async () => agent.logs().some((l) => l.msg === 'command stopped' && l.commandId === id));
    expect((await commandRow(id)).state).toBe('cancelled');
    const rs = (
      await until('a node state report after the cancel', async () => {
        const r = (await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId }, select: { runtimeState: true } })).runtimeState;
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
