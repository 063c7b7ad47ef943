// The real agent for integration tests: its esbuild bundle as a process, talking over HTTP to the real agent
// API handlers (commands, reports, node state, artifact files) on the test database, launching the reference
// endpoint from tools/ as its engine through the node's launch template. Shared by the agent commands process
// test and the tests of what drives the agent (the validate stage, rollouts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { AGENT_API_PATHS } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { handleArtifactFileRequest } from '../artifacts/artifact-http';
import { handleNodeStateRequest } from '../engine/node-state-http';
import { handleTelemetryRequest, type AgentHttpDeps } from '../telemetry/agent-http';
import { unique, type TestNode } from '../telemetry/test-support';
import { handleCommandPollRequest, handleCommandReportRequest } from './agent-commands-http';
import type { NodeCommandNotifier } from './command-notifier';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REFERENCE_CLI = path.join(ROOT, 'tools/reference-endpoint/src/cli.ts');

/** A node launch template that starts the reference endpoint (vLLM protocol) on the loaded artifact. */
export const referenceEngineTemplate = (servedModelName: string, opts: { ttftMs?: number } = {}) =>
  `${process.execPath} --import tsx ${REFERENCE_CLI} serve --engine vllm --artifact-dir {artifact_dir} --host {host} --port {port} --served-model-name ${servedModelName} --ttft-ms ${opts.ttftMs ?? 1} --itl-ms 1`;

export interface RealAgent {
  dirs: { base: string; queue: string; cache: string; credential: string };
  port: number;
  logs(): Array<Record<string, unknown> & { msg: string }>;
  exited: Promise<number | null>;
  child: ChildProcess;
}

export interface RealAgentHarness {
  work: string;
  serverUrl: string;
  agentDirs(node: TestNode): RealAgent['dirs'];
  /** `extraArgs`: more `run` flags, e.g. `--metrics-url` for the engine's /metrics (rollout analysis). */
  startAgent(dirs: RealAgent['dirs'], port: number, extraArgs?: string[]): RealAgent;
  /** Stops every agent process and every engine they started, the server, and removes the work directory. */
  close(): Promise<void>;
}

/** The agent API routes as the Next.js app mounts them, on a plain Node server (the handlers are Web-standard). */
function router(deps: AgentHttpDeps & { prisma: PrismaClient }, notifier: NodeCommandNotifier) {
  const http = { ...deps, notifier };
  return async (req: Request): Promise<Response> => {
    const p = new URL(req.url).pathname;
    if (p === AGENT_API_PATHS.commands) return handleCommandPollRequest(http, req);
    if (p === AGENT_API_PATHS.telemetry) return handleTelemetryRequest(deps, req);
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
  };
}

function startServer(route: (req: Request) => Promise<Response>): Promise<Server> {
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

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Builds the agent bundle and serves the agent API; call in beforeAll (the build takes a while). */
export async function startRealAgentHarness(
  deps: AgentHttpDeps & { prisma: PrismaClient },
  notifier: NodeCommandNotifier,
): Promise<RealAgentHarness> {
  const work = mkdtempSync(path.join(tmpdir(), 'fp-real-agent-'));
  const bundle = path.join(work, 'fleetplane-agent.mjs');
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'apps/agent/build.mjs'), '--outfile', bundle]);
  const server = await startServer(router(deps, notifier));
  const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const children = new Set<ChildProcess>();
  const engineStateFiles: string[] = [];

  return {
    work,
    serverUrl,
    agentDirs(node) {
      const base = mkdtempSync(path.join(work, 'agent-'));
      const credential = path.join(base, 'agent.json');
      writeFileSync(
        credential,
        JSON.stringify({ server: serverUrl, nodeId: node.nodeId, clusterId: node.clusterId, credential: node.credential }),
        { mode: 0o600 },
      );
      engineStateFiles.push(path.join(base, 'engine-state.json'));
      return { base, queue: path.join(base, 'queue'), cache: path.join(base, 'model-cache'), credential };
    },
    startAgent(dirs, port, extraArgs = []) {
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
          ...extraArgs,
        ],
        {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, FLEETPLANE_AGENT_LOG_LEVEL: 'info' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
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
    },
    async close() {
      for (const c of children) c.kill('SIGKILL');
      // The supervisor detaches the engine (it keeps serving across agent restarts): kill its process group.
      for (const file of engineStateFiles) {
        try {
          const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid: number | null }).pid;
          if (pid) process.kill(-pid, 'SIGKILL');
        } catch {
          // no engine, or already gone
        }
      }
      await new Promise((r) => server.close(r));
      await rm(work, { recursive: true, force: true });
    },
  };
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An artifact whose files are on disk under `work` (a file:// store the artifact route serves), with its
 * manifest digest as the agent verifies it. A new tracked repo unless `trackedRepoId` is given.
 */
export async function makeStoredArtifact(
  prisma: PrismaClient,
  work: string,
  files: Record<string, Buffer>,
  opts: { trackedRepoId?: string } = {},
) {
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
  let trackedRepoId = opts.trackedRepoId;
  if (!trackedRepoId) {
    const fam = await prisma.modelFamily.upsert({
      where: { slug: 'deepseek-v4-flash' },
      create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
      update: {},
    });
    const repo = await prisma.trackedRepo.create({
      data: { familyId: fam.id, hubRepoId: `deepseek-ai/${unique('V4')}`, filePatterns: ['*'] },
    });
    trackedRepoId = repo.id;
  }
  const revision = await prisma.modelRevision.create({
    data: { trackedRepoId, commitSha: randomBytes(20).toString('hex'), changeClass: 'initial' },
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
  return { id: a.id, digest, revisionId: revision.id, trackedRepoId };
}
