/**
 * Artifact delivery benchmark: the PRODUCTION web server (apps/web/server.mjs) serving a multi-GB artifact through
 * the agent API's artifact file route to 8 simulated agents at once — each its own process running the real
 * ModelCache (Range-capable download, sha256 while streaming, files written into its cache directory) — against
 * the same files fetched from the same server by 8 concurrent curl processes (also 2 files at a time, written to
 * disk, no hashing).
 *
 *   npm run bench:delivery [-- --phases artifacts,commands --agents 8 --files 4 --file-mib 512 --rounds 1
 *                               --command-agents 1000 --commands 200 --reference-commands 50 --command-rate 5
 *                               --hold-ms 100 --idle-seconds 30 --json result.json]
 *
 * Artifacts: aggregate MB/s of each and the ratio (target >= 0.8x curl), the web server's CPU seconds per GiB
 * served and peak RSS, the agents' own CPU per GiB and peak RSS, and how busy the machine was (load, steal).
 * The artifact is generated once under /var/tmp/fleetplane-bench-delivery (kept for later runs); each phase's
 * copies are deleted right after it.
 * Commands (bench-delivery-commands.ts): queued → delivered → running p50/p95/p99 with `--command-agents` idle
 * agents long-polling, against one agent polling; web and Postgres CPU and web RSS, idle and while commands run.
 * Needs `next build` of apps/web first (`npx nx run @fleetplane/web:build`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AGENT_API_PATHS, agentAuthorizationHeader, type TArtifactRef } from '@fleetplane/contracts';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import { createTestDatabase } from '@fleetplane/db/testing';
import { freePort, waitForHttp } from '@fleetplane/dev/local-net';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';
import { artifactRefFor, hashSecret, newSecret, NODE_CREDENTIAL_PREFIX, secretPrefix } from '@fleetplane/services';
import { machineCpuBetween, machineCpuTicks } from './machine-cpu';
import { formatCommandBench, runCommandBench, type CommandBenchOptions, type CommandBenchResult } from './bench-delivery-commands';
import { cpuSeconds, firstLine, lines, processTree, statusKb, stopTree, treeCpu } from './proc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const here = path.dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '8' },
    files: { type: 'string', default: '4' },
    'file-mib': { type: 'string', default: '512' },
    rounds: { type: 'string', default: '1' },
    phases: { type: 'string', default: 'artifacts,commands' },
    'command-agents': { type: 'string', default: '1000' },
    commands: { type: 'string', default: '200' },
    'reference-commands': { type: 'string', default: '50' },
    'command-rate': { type: 'string', default: '5' },
    'hold-ms': { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '30' },
    work: { type: 'string', default: '/var/tmp/fleetplane-bench-delivery' },
    json: { type: 'string' },
  },
});
const AGENTS = Number(args.agents);
const FILES = Number(args.files);
const FILE_BYTES = Number(args['file-mib']) * 1024 * 1024;
const ROUNDS = Number(args.rounds);
const PHASES = new Set(args.phases.split(',').map((p) => p.trim()));
for (const p of PHASES) if (p !== 'artifacts' && p !== 'commands') throw new Error(`--phases: unknown phase ${p} (artifacts, commands)`);
const WORK = path.resolve(args.work);
const GiB = 1024 ** 3;
const MB = 1_000_000;

interface PhaseResult {
  what: 'agents' | 'curl';
  seconds: number;
  bytes: number;
  mbPerSecond: number;
  webCpuSeconds: number;
  clientCpuSeconds: number;
  clientPeakRssMb: number;
  machine: { busyPct: number | null; stealPct: number | null; loadavg1m: number };
}

/** The artifact's files under WORK/store, generated once (random bytes: nothing compresses or dedupes). */
async function ensureArtifactFiles(): Promise<{ dir: string; files: TArtifactRef['files'] }> {
  const dir = path.join(WORK, `store-${FILES}x${FILE_BYTES}`);
  const manifestPath = path.join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return { dir, files: JSON.parse(await readFile(manifestPath, 'utf8')) as TArtifactRef['files'] };
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'files'), { recursive: true });
  const files: TArtifactRef['files'] = [];
  for (let i = 0; i < FILES; i += 1) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(FILES).padStart(5, '0')}.safetensors`;
    process.stdout.write(`  generating ${name} (${FILE_BYTES / 2 ** 20} MiB)\n`);
    const out = createWriteStream(path.join(dir, 'files', name));
    const hash = createHash('sha256');
    for (let done = 0; done < FILE_BYTES;) {
      const chunk = randomBytes(Math.min(16 * 2 ** 20, FILE_BYTES - done));
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      done += chunk.length;
    }
    out.end();
    await once(out, 'close');
    files.push({ path: name, sizeBytes: FILE_BYTES, sha256: hash.digest('hex') });
  }
  await writeFile(manifestPath, JSON.stringify(files));
  return { dir, files };
}

async function seed(prisma: PrismaClient, storeDir: string, files: TArtifactRef['files']) {
  const site = await prisma.site.create({ data: { name: 'bench-site', region: 'bench', dataResidency: 'eu' } });
  const cluster = await prisma.cluster.create({
    data: { name: 'bench-delivery', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
  });
  const family = await prisma.modelFamily.create({
    data: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
  });
  const repo = await prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId: 'deepseek-ai/DeepSeek-V4-Flash', filePatterns: ['*'] },
  });
  const revision = await prisma.modelRevision.create({
    data: { trackedRepoId: repo.id, commitSha: 'b'.repeat(40), changeClass: 'initial' },
  });
  const artifact = await prisma.artifact.create({
    data: {
      revisionId: revision.id,
      format: 'fp8',
      quantisation: 'FP8',
      sizeBytes: BigInt(files.reduce((n, f) => n + f.sizeBytes, 0)),
      digest: manifestDigest(files),
      storageUri: pathToFileURL(path.join(storeDir, 'files')).href,
      files: { createMany: { data: files.map((f) => ({ ...f, sizeBytes: BigInt(f.sizeBytes) })) } },
    },
  });
  await prisma.deployment.create({ data: { clusterId: cluster.id, artifactId: artifact.id, state: 'active' } });
  const credentials: string[] = [];
  for (let i = 0; i < AGENTS; i += 1) {
    const node = await prisma.node.create({ data: { clusterId: cluster.id, hostname: `bench-node-${i}` } });
    const credential = newSecret(NODE_CREDENTIAL_PREFIX);
    await prisma.nodeCredential.create({
      data: { nodeId: node.id, tokenHash: hashSecret(credential), tokenPrefix: secretPrefix(credential) },
    });
    credentials.push(credential);
  }
  return { ref: await artifactRefFor(prisma, artifact.id), credentials };
}

function sync() {
  spawnSync('sync');
}

async function runAgents(url: string, ref: TArtifactRef, credentials: string[], webPid: number, round: number): Promise<PhaseResult> {
  const base = path.join(WORK, `agents-${process.pid}-${round}`);
  const children = credentials.map((credential, i) =>
    spawn(process.execPath, ['--import', 'tsx', path.join(here, 'bench-delivery-agent.ts')], {
      cwd: root,
      env: {
        ...process.env,
        BENCH_SERVER: url,
        BENCH_CREDENTIAL: credential,
        BENCH_CACHE_DIR: path.join(base, `agent-${i}`),
        BENCH_REF: JSON.stringify(ref),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  try {
    const readers = children.map((c) => lines(c)[Symbol.asyncIterator]());
    for (const [i, r] of readers.entries())
      if ((await firstLine(r, `agent ${i}`)) !== 'ready') throw new Error(`agent ${i} did not get ready`);
    const web0 = treeCpu(webPid);
    const machine0 = machineCpuTicks();
    const started = performance.now();
    for (const c of children) c.stdin!.write('go\n');
    const results = await Promise.all(
      readers.map(
        async (r, i) => JSON.parse(await firstLine(r, `agent ${i}`)) as { downloadedBytes: number; cpuSeconds: number; peakRssMb: number },
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const machine = machineCpuBetween(machine0, machineCpuTicks());
    const bytes = results.reduce((n, r) => n + r.downloadedBytes, 0);
    const expected = ref.files.reduce((n, f) => n + f.sizeBytes, 0) * credentials.length;
    if (bytes !== expected) throw new Error(`agents fetched ${bytes} bytes, expected ${expected}`);
    return {
      what: 'agents',
      seconds,
      bytes,
      mbPerSecond: bytes / MB / seconds,
      webCpuSeconds: treeCpu(webPid) - web0,
      clientCpuSeconds: results.reduce((n, r) => n + r.cpuSeconds, 0),
      clientPeakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
      machine: { busyPct: machine?.busyPct ?? null, stealPct: machine?.stealPct ?? null, loadavg1m: loadavg()[0]! },
    };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
    sync();
  }
}

async function runCurl(url: string, ref: TArtifactRef, credentials: string[], webPid: number, round: number): Promise<PhaseResult> {
  const base = path.join(WORK, `curl-${process.pid}-${round}`);
  const web0 = treeCpu(webPid);
  const self0 = cpuSeconds(process.pid).children;
  const machine0 = machineCpuTicks();
  const started = performance.now();
  const exits = credentials.map(async (credential, i) => {
    const dir = path.join(base, `curl-${i}`);
    await mkdir(dir, { recursive: true });
    const argv = ['-s', '-f', '--parallel', '--parallel-max', '2', '-H', `Authorization: ${agentAuthorizationHeader(credential)}`];
    for (const f of ref.files) argv.push('-o', path.join(dir, f.path), `${url}${AGENT_API_PATHS.artifactFile(ref.id, f.path)}`);
    // --parallel draws a progress meter even with -s; keep stderr only for the error message.
    const child = spawn('curl', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`curl ${i} exited with ${code}: ${stderr.slice(-500)}`);
  });
  try {
    await Promise.all(exits);
    const seconds = (performance.now() - started) / 1000;
    const machine = machineCpuBetween(machine0, machineCpuTicks());
    const bytes = ref.files.reduce((n, f) => n + f.sizeBytes, 0) * credentials.length;
    return {
      what: 'curl',
      seconds,
      bytes,
      mbPerSecond: bytes / MB / seconds,
      webCpuSeconds: treeCpu(webPid) - web0,
      clientCpuSeconds: cpuSeconds(process.pid).children - self0,
      clientPeakRssMb: NaN,
      machine: { busyPct: machine?.busyPct ?? null, stealPct: machine?.stealPct ?? null, loadavg1m: loadavg()[0]! },
    };
  } finally {
    await rm(base, { recursive: true, force: true });
    sync();
  }
}

async function warm(dir: string, files: TArtifactRef['files']) {
  // Both contenders read the source from the page cache; the first would otherwise pay for the disk alone.
  for (const f of files)
    for await (const chunk of createReadStream(path.join(dir, 'files', f.path), { highWaterMark: 4 * 2 ** 20 })) void chunk;
}

/** The artifact phases: the agents' ModelCache against curl, `ROUNDS` times each, from the running web server. */
async function runArtifactPhases(prisma: PrismaClient, url: string, webPid: number) {
  const totalBytes = FILES * FILE_BYTES;
  const { dir, files } = await ensureArtifactFiles();
  const { ref, credentials } = await seed(prisma, dir, files);
  await warm(dir, files);
  // One small request first so route compilation/first-load costs are not in either phase.
  const probe = await fetch(`${url}${AGENT_API_PATHS.artifactFile(ref.id, files[0]!.path)}`, {
    method: 'HEAD',
    headers: { authorization: agentAuthorizationHeader(credentials[0]!) },
  });
  if (probe.status !== 200) throw new Error(`probe answered ${probe.status}`);
  const results: PhaseResult[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which goes first, so neither always meets the other's writeback.
    const order = round % 2 === 0 ? (['curl', 'agents'] as const) : (['agents', 'curl'] as const);
    for (const what of order) {
      const r =
        what === 'curl' ? await runCurl(url, ref, credentials, webPid, round) : await runAgents(url, ref, credentials, webPid, round);
      results.push(r);
      process.stdout.write(
        `  round ${round + 1} ${what.padEnd(6)} ${r.mbPerSecond.toFixed(0)} MB/s (${(r.bytes / GiB).toFixed(1)} GiB in ${r.seconds.toFixed(1)} s); web ${(r.webCpuSeconds / (r.bytes / GiB)).toFixed(2)} CPU-s/GiB; machine ${r.machine.busyPct?.toFixed(0)}% busy, steal ${r.machine.stealPct?.toFixed(1)}%, load ${r.machine.loadavg1m.toFixed(1)}\n`,
      );
    }
  }
  const webPeakRssMb = processTree(webPid).reduce((s, p) => s + statusKb(p, 'VmHWM'), 0) / 1024;
  const sum = (what: PhaseResult['what'], k: 'bytes' | 'seconds' | 'webCpuSeconds' | 'clientCpuSeconds') =>
    results.filter((r) => r.what === what).reduce((n, r) => n + r[k], 0);
  const agentsRate = sum('agents', 'bytes') / MB / sum('agents', 'seconds');
  const curlRate = sum('curl', 'bytes') / MB / sum('curl', 'seconds');
  const ratio = agentsRate / curlRate;
  const perGiB = (what: PhaseResult['what'], k: 'webCpuSeconds' | 'clientCpuSeconds') => sum(what, k) / (sum(what, 'bytes') / GiB);
  const agentPeak = Math.max(...results.filter((r) => r.what === 'agents').map((r) => r.clientPeakRssMb));
  process.stdout.write(
    [
      `── ${AGENTS} agents × ${(totalBytes / GiB).toFixed(1)} GiB from one control plane`,
      `  agents (ModelCache)   ${agentsRate.toFixed(0)} MB/s aggregate; web ${perGiB('agents', 'webCpuSeconds').toFixed(2)} CPU-s/GiB; agents ${perGiB('agents', 'clientCpuSeconds').toFixed(2)} CPU-s/GiB, peak RSS ${agentPeak.toFixed(0)} MB each`,
      `  curl                  ${curlRate.toFixed(0)} MB/s aggregate; web ${perGiB('curl', 'webCpuSeconds').toFixed(2)} CPU-s/GiB; curl ${perGiB('curl', 'clientCpuSeconds').toFixed(2)} CPU-s/GiB`,
      `  ratio                 ${ratio.toFixed(2)}× curl (${ratio >= 0.8 ? 'PASS' : 'MISS'} ≥ 0.8×)`,
      `  web server peak RSS   ${webPeakRssMb.toFixed(0)} MB`,
    ].join('\n') + '\n',
  );
  return { agents: AGENTS, files: FILES, fileBytes: FILE_BYTES, results, agentsRate, curlRate, ratio, webPeakRssMb };
}

async function main() {
  if (!existsSync(path.join(root, 'apps/web/.next/BUILD_ID')))
    throw new Error(
      'apps/web/.next/BUILD_ID is missing: run `npx nx run @fleetplane/web:build` first (the benchmark measures the production build).',
    );
  if (PHASES.has('artifacts') && spawnSync('curl', ['--version']).status !== 0)
    throw new Error('curl is not installed (needed for the comparison).');
  process.stdout.write(
    `Delivery benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / GiB)} GB, Node ${process.version}, phases ${[...PHASES].join(', ')}\n`,
  );
  if (PHASES.has('artifacts'))
    process.stdout.write(
      `  artifact ${FILES} × ${FILE_BYTES / 2 ** 20} MiB = ${((FILES * FILE_BYTES) / GiB).toFixed(1)} GiB, ${AGENTS} agents, ${ROUNDS} round(s), work dir ${WORK}\n`,
    );
  const db = await createTestDatabase('fp_bench_delivery');
  const prisma = createPrismaClient(db.url, { max: 2 });
  let web: ChildProcess | null = null;
  try {
    const port = await freePort();
    web = spawn(process.execPath, [path.join(root, 'apps/web/server.mjs'), '-p', String(port), '-H', '127.0.0.1'], {
      cwd: path.join(root, 'apps/web'),
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
        FLEETPLANE_PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: db.url,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const url = `http://127.0.0.1:${port}`;
    if (!(await waitForHttp(`${url}/api/health`, 120_000))) throw new Error('the web server did not start');
    const artifacts = PHASES.has('artifacts') ? await runArtifactPhases(prisma, url, web.pid!) : null;
    let commands: CommandBenchResult | null = null;
    if (PHASES.has('commands')) {
      const options: CommandBenchOptions = {
        prisma,
        url,
        webPid: web.pid!,
        work: WORK,
        agents: Number(args['command-agents']),
        commands: Number(args.commands),
        referenceCommands: Number(args['reference-commands']),
        commandsPerSecond: Number(args['command-rate']),
        holdMs: Number(args['hold-ms']),
        idleSeconds: Number(args['idle-seconds']),
      };
      commands = await runCommandBench(options);
      process.stdout.write(formatCommandBench(options, commands));
    }
    if (args.json) writeFileSync(args.json, `${JSON.stringify({ ...artifacts, commands }, null, 2)}\n`);
  } finally {
    if (web?.pid && web.exitCode === null) await stopTree(web.pid, 1000);
    await prisma.$disconnect();
    if (!process.env.KEEP_TEST_DATABASE) await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
