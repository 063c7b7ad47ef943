/**
 * Fleet benchmark: a simulated fleet (tools/dev/src/fleet-sim.ts: every node enrolled through the real enroll
 * endpoint, reporting over the real agent API every 10 s) against the PRODUCTION build — web (apps/web/server.mjs)
 * and worker (apps/worker/dist/worker.mjs) — on a fresh database, first with one web and one worker, then with two
 * of each on the same Postgres and Redis.
 *
 *   npx tsx tools/bench/src/bench-fleet.ts [--nodes 1000] [--gpus 8] [--replicas 1,2] [--seconds 60] [--warmup 20]
 *                                        [--interval 10] [--json result.json] [--skip-analyze]
 *                                        [--web apps/web] [--worker apps/worker/dist/worker.mjs]
 *
 * --web/--worker measure another build in the same way (a copy of apps/web holding its .next, and a worker bundle,
 * e.g. of the base of a change, kept inside the checkout so their packages resolve). Before the measured window the
 * database is ANALYZEd, as autovacuum would have done on a production server (--skip-analyze: leave it as the
 * development servers' autovacuum = off does).
 *
 * Measures, per configuration:
 *  - ingest: accepted GPU samples/s vs offered, request p50/p99 (from the scheduled send time), web and Postgres
 *    CPU per sample;
 *  - health evaluation: every pass the workers ran in the window (BullMQ's own processedOn/finishedOn of the
 *    repeatable `evaluate-health` job): duration p50/max against the 2 s target, passes per 10 s interval (exactly
 *    one, also with two workers), alerts opened, and webhook deliveries received by a loopback receiver (none twice);
 *  - the fleet overview and the N-node cluster page: server render p95 (signed-in GET of the page) and the tRPC
 *    list calls behind them p95, each timed alternately with GET /api/health (one database round trip through the
 *    same web process) as the reference, so the ratio holds on a shared machine whose load moves;
 *  - /metrics: scrape time and size, series count and the largest label cardinality per metric family.
 * Needs `next build` of apps/web and the worker bundle first (`npx nx run-many -t build -p @fleetplane/web @fleetplane/worker`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { createPrismaClient } from '@fleetplane/db';
import { createTestDatabase } from '@fleetplane/db/testing';
import { freePort, waitForHttp } from '@fleetplane/dev/local-net';
import { closeFleetSimSockets, enrollSimulatedNodes, runSimulatedFleet, SIM_GPU_MODELS, type SimNode } from '@fleetplane/dev/fleet-sim';
import { DEMO_PASSWORD, DEMO_USERS, seedDemoUsers } from '@fleetplane/dev/seed-demo-users';
import { createJoinToken } from '@fleetplane/services';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { machineCpuBetween, machineCpuTicks } from './machine-cpu';
import { startDatabaseCpuMeter, startStatementMeter, type StatementCost } from './pg-cost';
import { cpuSeconds, percentile, processTree, statusKb, stopTree } from './proc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    gpus: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '1,2' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '20' },
    interval: { type: 'string', default: '10' },
    json: { type: 'string' },
    // Another build to measure (a copy of apps/web with its .next, and a worker bundle), e.g. the base of a change.
    web: { type: 'string', default: 'apps/web' },
    worker: { type: 'string', default: 'apps/worker/dist/worker.mjs' },
    'skip-analyze': { type: 'boolean', default: false },
  },
});
const NODES = Number(args.nodes);
const GPUS = Number(args.gpus);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const INTERVAL = Number(args.interval);
const REPLICAS = args.replicas.split(',').map(Number);
const WEB_DIR = path.resolve(root, args.web);
const WORKER = path.resolve(root, args.worker);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** A Slack-compatible webhook receiver on loopback that remembers every delivery. */
async function startWebhookReceiver(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

async function signIn(server: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${server}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: HTTP ${res.status} ${await res.text()}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

interface Timed {
  p50: number;
  p95: number;
  bytes: number;
  status: number;
  /** The reference request's p50/p95, timed alternately with this one: how fast the same process answered meanwhile. */
  ref: { p50: number; p95: number } | null;
}

/**
 * GETs `url` `repeats` times (after two unmeasured); with `refUrl`, each is followed by one GET of the reference
 * (GET /api/health: one database round trip through the same web process), so the ratio of the two shows
 * the request's own cost whatever the shared machine's load does meanwhile.
 */
async function timeGets(url: string, cookie: string, repeats: number, refUrl?: string): Promise<Timed> {
  const ms: number[] = [];
  const refMs: number[] = [];
  let bytes = 0;
  let status = 0;
  const once = async (u: string) => {
    const t0 = performance.now();
    const res = await fetch(u, { headers: { cookie } });
    const body = await res.arrayBuffer();
    return { ms: performance.now() - t0, body, status: res.status };
  };
  for (let i = -2; i < repeats; i += 1) {
    const r = await once(url);
    if (i >= 0) ms.push(r.ms);
    bytes = r.body.byteLength;
    status = r.status;
    if (refUrl) {
      const ref = await once(refUrl);
      if (i >= 0) refMs.push(ref.ms);
    }
  }
  const s = sorted(ms);
  const rs = sorted(refMs);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    bytes,
    status,
    ref: refUrl ? { p50: percentile(rs, 50), p95: percentile(rs, 95) } : null,
  };
}

/** One tRPC query as the browser's client sends it (GET, superjson input). */
function trpcUrl(server: string, proc: string, input: unknown): string {
  return `${server}/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
}

/** Series count, bytes and the largest number of series in one metric family. */
function metricsShape(text: string) {
  const families = new Map<string, number>();
  let series = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    series += 1;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '?';
    families.set(name, (families.get(name) ?? 0) + 1);
  }
  const largest = [...families.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['—', 0];
  return { series, families: families.size, largestFamily: largest[0], largestFamilySeries: largest[1] };
}

interface ConfigResult {
  replicas: number;
  nodes: number;
  gpus: number;
  ingest: {
    offeredSamplesPerSecond: number;
    acceptedSamplesPerSecond: number;
    storedSamples: number;
    latencyMs: { p50: number; p99: number };
    errors: Record<string, number>;
    late: number;
    webCpuMicrosPerSample: number;
    postgresCpuMicrosPerSample: number;
    webPeakRssMb: number;
  };
  /** pg_stat_statements for the benchmark's database over the window, when the server preloads it. */
  statements: StatementCost[] | null;
  health: {
    passes: number;
    durationMs: { p50: number; max: number };
    intervalsWithoutPass: number;
    intervalsWithTwoPasses: number;
    workersUsed: number;
  };
  alerts: { opened: number; webhookDeliveries: number; duplicateDeliveries: number };
  pages: Record<string, Timed>;
  metrics: {
    p50: number;
    p95: number;
    bytes: number;
    series: number;
    families: number;
    largestFamily: string;
    largestFamilySeries: number;
  };
  machine: { busyPct: number | null; stealPct: number | null; loadavg1m: number };
}

async function runConfig(replicas: number): Promise<ConfigResult> {
  const db = await createTestDatabase('fp_bench_fleet');
  const prisma = createPrismaClient(db.url, { max: 4 });
  const receiver = await startWebhookReceiver();
  const prefix = `bench-fleet-${process.pid}-${replicas}`;
  const children: ChildProcess[] = [];
  try {
    await allowLoopbackForTests(prisma);
    await seedDemoUsers(prisma);
    const site = await prisma.site.create({ data: { name: 'bench-site', region: 'bench', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: 'pro-fleet', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2', gpuHourlyCostUsd: 2.5 },
    });

    const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
    const env = {
      ...process.env,
      BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
      // Every replica answers as the first one's address (sign-in checks the origin against it).
      FLEETPLANE_PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      FLEETPLANE_QUEUE_PREFIX: prefix,
      ALERT_WEBHOOK_URL: receiver.url,
      LOG_LEVEL: 'warn',
    };
    const webs: { url: string; child: ChildProcess }[] = [];
    const logs: string[] = [];
    const keepLog = (name: string, child: ChildProcess) =>
      child.stderr?.on('data', (d: Buffer) => logs.push(`${name}: ${d.toString().trimEnd()}`.slice(0, 2000)));
    for (const [r, port] of ports.entries()) {
      const child = spawn(process.execPath, [path.join(WEB_DIR, 'server.mjs'), '-p', String(port), '-H', '127.0.0.1'], {
        cwd: WEB_DIR,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      keepLog(`web${r}`, child);
      children.push(child);
      webs.push({ url: `http://127.0.0.1:${port}`, child });
      const worker = spawn(process.execPath, [WORKER], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      keepLog(`worker${r}`, worker);
      children.push(worker);
    }
    for (const w of webs)
      if (!(await waitForHttp(`${w.url}/api/health`, 120_000))) throw new Error(`${w.url} did not start:\n${logs.slice(-20).join('\n')}`);

    // Enroll every node through the real endpoint, spread over the web replicas.
    const tokens = [];
    for (let i = 0; i < NODES; i += 1) {
      const t = await createJoinToken(
        { prisma, actor: { type: 'system', id: null, label: 'bench:fleet' } },
        { clusterId: cluster.id, expiresInMinutes: 60, description: 'bench' },
      );
      tokens.push({ hostname: `pro-node-${String(i).padStart(4, '0')}`, joinToken: t.token });
    }
    const nodes: SimNode[] = [];
    for (let r = 0; r < replicas; r += 1) {
      const mine = tokens.filter((_, i) => i % replicas === r);
      nodes.push(...(await enrollSimulatedNodes(webs[r]!.url, mine, { gpuModel: SIM_GPU_MODELS.h200, gpusPerNode: GPUS, concurrency: 8 })));
    }
    const runs = Array.from({ length: replicas }, (_, r) =>
      runSimulatedFleet(
        webs[r]!.url,
        nodes.filter((_, i) => i % replicas === r),
        { intervalSeconds: INTERVAL, engine: true, xidEveryIntervals: 30 },
      ),
    );
    await sleep(WARMUP * 1000);
    // Statistics as autovacuum would have gathered them by now on a production server (these development servers
    // run with autovacuum off): without them, and with plans cached while the tables were still empty (the
    // agent API's named statements are planned once per connection), hot statements keep sequential scans of
    // tables that have since grown to 8,000 rows. ANALYZE also invalidates those cached plans.
    if (!args['skip-analyze']) await prisma.$executeRawUnsafe('ANALYZE');
    for (const run of runs) run.reset();

    const webPids = webs.flatMap((w) => processTree(w.child.pid!));
    const webCpu0 = webPids.reduce((s, p) => s + cpuSeconds(p).own, 0);
    const pgCpuMeter = await startDatabaseCpuMeter(prisma);
    const statementMeter = await startStatementMeter(prisma);
    const machine0 = machineCpuTicks();
    const windowStart = Date.now();
    await sleep(SECONDS * 1000);
    const windowEnd = Date.now();
    const machine1 = machineCpuTicks();
    const webCpu = webPids.reduce((s, p) => s + cpuSeconds(p).own, 0) - webCpu0;
    const pgCpu = await pgCpuMeter.stop();
    const statements = await statementMeter.stop();
    const stats = runs.map((r) => r.stats());
    const stored = stats.reduce((s, x) => s + x.storedGpuSamples, 0);
    const latencies = sorted(stats.flatMap((x) => x.latenciesMs));
    const errors: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;

    // Health passes the workers ran in the window, from BullMQ's own bookkeeping.
    const healthQueue = new Queue('health', { connection: { url: env.REDIS_URL }, prefix });
    const jobs = (await healthQueue.getJobs(['completed', 'failed'], 0, 10_000)).filter(
      (j) => j.processedOn && j.processedOn >= windowStart && j.processedOn < windowEnd,
    );
    await healthQueue.close();
    const durations = sorted(jobs.map((j) => (j.finishedOn ?? j.processedOn!) - j.processedOn!));
    const perInterval = new Map<number, number>();
    for (const j of jobs) {
      const slot = Math.floor((j.timestamp ?? j.processedOn!) / (INTERVAL * 1000));
      perInterval.set(slot, (perInterval.get(slot) ?? 0) + 1);
    }
    const firstSlot = Math.ceil(windowStart / (INTERVAL * 1000));
    const lastSlot = Math.floor(windowEnd / (INTERVAL * 1000)) - 1;
    let withoutPass = 0;
    let twoPasses = 0;
    for (let s = firstSlot; s <= lastSlot; s += 1) {
      const n = perInterval.get(s) ?? 0;
      if (n === 0) withoutPass += 1;
      if (n > 1) twoPasses += 1;
    }

    // Pages and the tRPC calls behind them, signed in as a viewer, while the fleet keeps reporting.
    const viewer = DEMO_USERS.find((u) => u.role === 'viewer')!;
    const web = webs[0]!.url;
    const cookie = await signIn(web, viewer.email, DEMO_PASSWORD);
    const ref = `${web}/api/health`;
    const pages: ConfigResult['pages'] = {
      'page /': await timeGets(`${web}/`, cookie, 20, ref),
      [`page /clusters/<${NODES} nodes>`]: await timeGets(`${web}/clusters/${cluster.id}`, cookie, 20, ref),
      'trpc fleet.summary': await timeGets(trpcUrl(web, 'fleet.summary', undefined), cookie, 40, ref),
      'trpc clusters.list': await timeGets(
        trpcUrl(web, 'clusters.list', { page: 1, pageSize: 25, sortBy: 'name', sortDir: 'asc' }),
        cookie,
        40,
        ref,
      ),
      'trpc fleetHealth.utilisation': await timeGets(trpcUrl(web, 'fleetHealth.utilisation', undefined), cookie, 40, ref),
      'trpc nodes.list': await timeGets(
        trpcUrl(web, 'nodes.list', { clusterId: cluster.id, page: 1, pageSize: 50, sortBy: 'hostname', sortDir: 'asc' }),
        cookie,
        40,
        ref,
      ),
      'trpc fleetHealth.clusterGrid': await timeGets(trpcUrl(web, 'fleetHealth.clusterGrid', { clusterId: cluster.id }), cookie, 40, ref),
    };
    const metricsTimes = await timeGets(`${web}/metrics`, '', 10);
    const metricsText = await (await fetch(`${web}/metrics`)).text();

    for (const run of runs) await run.stop();
    const webPeakRssMb = webs.reduce(
      (m, w) => Math.max(m, processTree(w.child.pid!).reduce((s, p) => s + statusKb(p, 'VmHWM'), 0) / 1024),
      0,
    );
    const opened = await prisma.alert.count({ where: { openedAt: { gte: new Date(windowStart - WARMUP * 1000) } } });
    const keys = receiver.bodies.map((b) => b);
    const duplicateDeliveries = keys.length - new Set(keys).size;
    const cpu = machineCpuBetween(machine0, machine1);
    const seconds = (windowEnd - windowStart) / 1000;
    return {
      replicas,
      nodes: NODES,
      gpus: NODES * GPUS,
      ingest: {
        offeredSamplesPerSecond: (NODES * GPUS) / INTERVAL,
        acceptedSamplesPerSecond: stored / seconds,
        storedSamples: stored,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
        errors,
        late: stats.reduce((s, x) => s + x.late, 0),
        webCpuMicrosPerSample: stored ? (webCpu * 1e6) / stored : NaN,
        postgresCpuMicrosPerSample: stored ? (pgCpu * 1e6) / stored : NaN,
        webPeakRssMb,
      },
      statements,
      health: {
        passes: jobs.length,
        durationMs: { p50: percentile(durations, 50), max: durations.at(-1) ?? NaN },
        intervalsWithoutPass: withoutPass,
        intervalsWithTwoPasses: twoPasses,
        workersUsed: new Set(jobs.map((j) => j.processedBy ?? '?')).size,
      },
      alerts: { opened, webhookDeliveries: receiver.bodies.length, duplicateDeliveries },
      pages,
      metrics: { ...metricsTimes, ...metricsShape(metricsText) },
      machine: { busyPct: cpu?.busyPct ?? null, stealPct: cpu?.stealPct ?? null, loadavg1m: loadavg()[0]! },
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.pid) await stopTree(c.pid, 1000);
    await receiver.close();
    await prisma.$disconnect();
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  }
}

function report(r: ConfigResult): string {
  const f = (n: number | null, d = 0) =>
    n !== null && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—';
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const lines = [
    `── ${r.replicas} web + ${r.replicas} worker, ${f(r.nodes)} nodes × ${GPUS} GPUs = ${f(r.gpus)} GPUs, ${INTERVAL} s interval (machine ${f(r.machine.busyPct, 0)}% busy, steal ${f(r.machine.stealPct, 1)}%, load ${f(r.machine.loadavg1m, 1)})`,
    `  ingest         ${f(r.ingest.acceptedSamplesPerSecond)} samples/s accepted of ${f(r.ingest.offeredSamplesPerSecond)} offered; p50 ${f(r.ingest.latencyMs.p50, 1)} ms, p99 ${f(r.ingest.latencyMs.p99, 1)} ms; errors ${JSON.stringify(r.ingest.errors)}; late ${r.ingest.late}`,
    `                 CPU per sample: web ${f(r.ingest.webCpuMicrosPerSample, 1)} µs, Postgres ${f(r.ingest.postgresCpuMicrosPerSample, 1)} µs; web peak RSS ${f(r.ingest.webPeakRssMb)} MB`,
    ...statementLines(r, f),
    `  health pass    ${r.health.passes} passes, p50 ${f(r.health.durationMs.p50)} ms, max ${f(r.health.durationMs.max)} ms (${mark(r.health.durationMs.max < 2000)} < 2 s); intervals without a pass ${r.health.intervalsWithoutPass}, with two ${r.health.intervalsWithTwoPasses} (${mark(r.health.intervalsWithTwoPasses === 0)}); ${r.health.workersUsed} worker(s) ran them`,
    `  alerts         ${r.alerts.opened} opened, ${r.alerts.webhookDeliveries} webhook deliveries, ${r.alerts.duplicateDeliveries} duplicated (${mark(r.alerts.duplicateDeliveries === 0)})`,
    ...Object.entries(r.pages).map(
      ([k, v]) =>
        `  ${k.padEnd(34)} p50 ${f(v.p50, 1)} ms, p95 ${f(v.p95, 1)} ms (${mark(v.p95 < (k.startsWith('page') ? 300 : 50))} < ${k.startsWith('page') ? 300 : 50} ms), ${f(v.bytes / 1024)} KiB, HTTP ${v.status}` +
        (v.ref
          ? `; reference p50 ${f(v.ref.p50, 1)} / p95 ${f(v.ref.p95, 1)} ms, ratio p50 ${f(v.p50 / v.ref.p50, 2)}x, p95 ${f(v.p95 / v.ref.p95, 2)}x`
          : ''),
    ),
    `  /metrics       p50 ${f(r.metrics.p50, 1)} ms, p95 ${f(r.metrics.p95, 1)} ms (${mark(r.metrics.p95 < 1000)} < 1 s), ${f(r.metrics.bytes / 1024)} KiB, ${f(r.metrics.series)} series in ${r.metrics.families} families (largest: ${r.metrics.largestFamily} with ${f(r.metrics.largestFamilySeries)})`,
  ];
  return lines.join('\n');
}

/** The statements that cost the database most per stored sample (execution + planning time in the backend). */
function statementLines(r: ConfigResult, f: (n: number | null, d?: number) => string): string[] {
  if (!r.statements) return ['  statements     (pg_stat_statements not preloaded on this server)'];
  const n = r.ingest.storedSamples;
  const total = r.statements.reduce((s, x) => s + x.execMs + x.planMs, 0);
  return [
    `  statements     ${f((total * 1000) / n, 1)} µs of execution + planning per sample in ${f(r.statements.length)} statements; most costly:`,
    ...r.statements
      .slice(0, 12)
      .map(
        (x) =>
          `    ${f(((x.execMs + x.planMs) * 1000) / n, 1).padStart(6)} µs/sample ${f((100 * (x.execMs + x.planMs)) / total).padStart(3)}%  ${f((1000 * x.calls) / n, 1).padStart(7)} calls/1k samples, mean ${f((x.execMs + x.planMs) / x.calls, 2)} ms, ${f(x.rows / x.calls, 1)} rows/call  ${x.query.slice(0, 110)}`,
      ),
  ];
}

async function main() {
  for (const built of [path.join(WEB_DIR, '.next/BUILD_ID'), WORKER])
    if (!existsSync(built))
      throw new Error(
        `${built} is missing: run \`npx nx run-many -t build -p @fleetplane/web @fleetplane/worker\` first (the benchmark measures the production build).`,
      );
  const results: ConfigResult[] = [];
  process.stdout.write(
    `Fleet benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}\n`,
  );
  for (const replicas of REPLICAS) {
    const r = await runConfig(replicas);
    results.push(r);
    process.stdout.write(`${report(r)}\n`);
  }
  closeFleetSimSockets();
  if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
