// The real agent for integration tests: its esbuild bundle as a process, talking over HTTP to the real agent
// API handlers (commands, reports, node state, artifact files) on the test database, launching the reference
// endpoint from tools/ as its engine through the node's launch template. Shared by the agent commands process
// test and the tests of what drives the agent (the validate stage, rollouts), all through one setup,
// `useRealAgent()`. The harness can also stop and restart the agent API server on its port (a control plane
// restart); cut-proxy-test-support.ts puts a network cut between an agent and it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, inject, vi } from 'vitest';
import { AGENT_API_PATHS, type TCommandReport } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import {
  artifactRefFor,
  engineLaunchSpecFor,
  issueNodeCommand,
  NodeCommandNotifier,
  waitForNodeCommand,
  type NodeCommandOutcome,
  type ServiceContext,
} from '@fleetplane/services';
import { testDeps, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { handleArtifactFileRequest } from '../artifact-files';
import { handleCommandPollRequest, handleCommandReportRequest } from '../commands';
import type { AgentHttpDeps } from '../http-io';
import { handleNodeStateRequest } from '../node-state';
import { handleTelemetryRequest } from '../telemetry';

export const ROOT = fileURLToPath(new URL('../../../../../../', import.meta.url));
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
  /** `server`: the URL the agent is told to use (default the agent API server; a proxy in front of it). */
  agentDirs(node: TestNode, opts?: { server?: string }): RealAgent['dirs'];
  /** `extraArgs`: more `run` flags, e.g. `--metrics-url` for the engine's /metrics (rollout analysis). */
  startAgent(dirs: RealAgent['dirs'], port: number, extraArgs?: string[]): RealAgent;
  /** The control plane goes away as a dying process would: the listener closes and every open connection is cut. */
  stopServer(): Promise<void>;
  /** The control plane (stopped first if it still runs) comes back on the same port: the agents keep their URL. */
  restartServer(): Promise<void>;
  /** The report states the agent API received for a command, in arrival order (before it handled them). */
  reportsReceived(commandId: string): Array<TCommandReport['state'] | null>;
  /** Stops every agent process and every engine they started, the server, and removes the work directory. */
  close(): Promise<void>;
}

/** The agent API routes as the Next.js app mounts them, on a plain Node server (the handlers are Web-standard). */
function router(
  deps: AgentHttpDeps & { prisma: PrismaClient },
  notifier: NodeCommandNotifier,
  onReport: (commandId: string, state: TCommandReport['state'] | null) => void,
) {
  const http = { ...deps, notifier };
  return async (req: Request): Promise<Response> => {
    const p = new URL(req.url).pathname;
    if (p === AGENT_API_PATHS.commands) return handleCommandPollRequest(http, req);
    if (p === AGENT_API_PATHS.telemetry) return handleTelemetryRequest(deps, req);
    const report = /^\/api\/agent\/v1\/commands\/([^/]+)\/report$/.exec(p);
    if (report) {
      const commandId = decodeURIComponent(report[1]!);
      const body = (await req
        .clone()
        .json()
        .catch(() => null)) as { state?: TCommandReport['state'] } | null;
      onReport(commandId, body?.state ?? null);
      return handleCommandReportRequest(deps, req, commandId);
    }
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

function startServer(route: (req: Request) => Promise<Response>, port = 0): Promise<Server> {
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
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
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
  const reports = new Map<string, Array<TCommandReport['state'] | null>>();
  const route = router(deps, notifier, (id, state) => reports.set(id, [...(reports.get(id) ?? []), state]));
  let server: Server | null = await startServer(route);
  const port = (server.address() as AddressInfo).port;
  const serverUrl = `http://127.0.0.1:${port}`;
  const children = new Set<ChildProcess>();
  const engineStateFiles: string[] = [];
  const stopServer = async () => {
    const s = server;
    server = null;
    if (!s) return;
    const closed = new Promise((r) => s.close(r));
    s.closeAllConnections();
    await closed;
  };

  return {
    work,
    serverUrl,
    stopServer,
    async restartServer() {
      await stopServer();
      server = await startServer(route, port);
    },
    reportsReceived: (id) => reports.get(id) ?? [],
    agentDirs(node, opts = {}) {
      const base = mkdtempSync(path.join(work, 'agent-'));
      const credential = path.join(base, 'agent.json');
      writeFileSync(
        credential,
        JSON.stringify({ server: opts.server ?? serverUrl, nodeId: node.nodeId, clusterId: node.clusterId, credential: node.credential }),
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
          // Only what the agent needs (NODE_ENV because Next's types require it in every env; the agent ignores it).
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_ENV: process.env.NODE_ENV ?? 'test',
            FLEETPLANE_AGENT_LOG_LEVEL: 'info',
          },
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
      await stopServer();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` (vitest's vi.waitFor, 100 ms steps) until it returns something truthy, and returns that. */
export function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await fn();
      if (!value) throw new Error(`timed out waiting for ${what}`);
      return value;
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

const runtimeStateOf = async (prisma: PrismaClient, nodeId: string) =>
  (await prisma.node.findUniqueOrThrow({ where: { id: nodeId }, select: { runtimeState: true } })).runtimeState;

export interface RealAgentSetup {
  deps: AgentHttpDeps & { prisma: PrismaClient };
  prisma: PrismaClient;
  /** The agent bundle and the agent API server (set once the file's beforeAll ran). */
  readonly harness: RealAgentHarness;
  /** A service context acting as the operator user. */
  readonly ctx: ServiceContext;
  /** The user created for each role asked for. */
  userId(role: 'operator' | 'approver'): string;
  /** The node's engine and cache state as its agent last reported it. */
  runtimeOf(nodeId: string): ReturnType<typeof runtimeStateOf>;
  /** Issues a load_artifact of `artifactId` (the node's launch spec, no bandwidth cap) and waits for its outcome. */
  loadArtifact(nodeId: string, artifactId: string, timeoutMs?: number): Promise<NodeCommandOutcome>;
}

/**
 * The one setup of a test file that drives the real agent: registers the beforeAll (agent bundle build,
 * agent API server, the users of `roles`, an operator always) and the afterAll that stops every agent,
 * engine and server and closes the database pools. Call it at the top of the file, before its own hooks.
 */
export function useRealAgent(opts: { roles?: Array<'operator' | 'approver'> } = {}): RealAgentSetup {
  const deps = testDeps();
  const { prisma } = deps;
  const notifier = new NodeCommandNotifier(inject('databaseUrl')).start();
  let harness: RealAgentHarness | undefined;
  const users = new Map<string, string>();
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useRealAgent: used before its beforeAll ran');
    return v;
  };

  beforeAll(async () => {
    harness = await startRealAgentHarness(deps, notifier);
    for (const role of new Set(['operator' as const, ...(opts.roles ?? [])])) {
      const id = randomUUID();
      await prisma.user.create({ data: { id, email: `${id}@test.local`, name: role === 'operator' ? 'op' : role, role } });
      users.set(role, id);
    }
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
    await notifier.close();
    await prisma.$disconnect();
    await deps.pool.end();
  });

  return {
    deps,
    prisma,
    get harness() {
      return ready(harness);
    },
    get ctx(): ServiceContext {
      const id = ready(users.get('operator'));
      return { prisma, actor: { type: 'user', id, label: `${id}@test.local` } };
    },
    userId: (role) => ready(users.get(role)),
    runtimeOf: (nodeId) => runtimeStateOf(prisma, nodeId),
    async loadArtifact(nodeId, artifactId, timeoutMs = 90_000) {
      const { id } = await issueNodeCommand(prisma, {
        nodeId,
        command: {
          kind: 'load_artifact',
          payload: {
            artifact: await artifactRefFor(prisma, artifactId),
            launch: await engineLaunchSpecFor(prisma, { nodeId, artifactId }),
            bandwidthMbps: null,
          },
        },
        origin: 'test',
        artifactId,
      });
      return waitForNodeCommand(prisma, id, { timeoutMs });
    },
  };
}
