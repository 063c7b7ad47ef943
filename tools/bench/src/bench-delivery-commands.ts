/**
 * bench:delivery's command round trip: how long a command takes from queued to the agent running it while a
 * whole fleet of idle agents long-polls the control plane, against the same round trip with one agent polling
 * (the reference, measured in the same run against the same web process).
 *
 * Nodes are enrolled through the real enroll endpoint (tools/dev/src/fleet-sim.ts); their agents are the real
 * command loop and API client, many to a process (bench-delivery-command-agents.ts); commands are issued through
 * issueEngineCommand, what the dashboard's restart button calls, at a steady rate to random distinct nodes.
 * The three instants come from the command's own row: issued_at (queued, set by the issuer), delivered_at (the
 * poll that handed it out) and started_at (the agent's first running report), all stamped on this machine's clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile, mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_COMMAND_POLL_WAIT_SECONDS } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { enrollSimulatedNodes, SIM_GPU_MODELS, type SimNode } from '@fleetplane/dev/fleet-sim';
import { createJoinToken, issueEngineCommand } from '@fleetplane/services';
import { machineCpuBetween, machineCpuTicks } from './machine-cpu';
import { firstLine, lines, meterCpuOf, percentile, processTree, statusKb, treeCpu } from './proc';

export interface CommandBenchOptions {
  prisma: PrismaClient;
  url: string;
  webPid: number;
  /** Scratch directory for the agents' journals (removed afterwards). */
  work: string;
  agents: number;
  commands: number;
  referenceCommands: number;
  commandsPerSecond: number;
  /** How long a "restart" runs on the agent before it reports success. */
  holdMs: number;
  /** Idle fleet window before the commands (one long-poll period shows the idle cost). */
  idleSeconds: number;
}

interface Distribution {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

interface ResourceWindow {
  seconds: number;
  /** CPU used in the window as % of one core. */
  webCpuPct: number;
  postgresCpuPct: number;
  webPeakRssMb: number;
  machine: { busyPct: number | null; stealPct: number | null; loadavg1m: number };
}

interface ClientStats {
  /** Per command, the agent process's instants (epoch ms). */
  commands: { id: string; seenAt: number; handlerAt: number | null }[];
  polls: number;
  pollFailures: Record<string, number>;
  handled: number;
  cpuSeconds: number;
  peakRssMb: number;
}

export interface RoundTripResult {
  what: 'reference' | 'fleet';
  agents: number;
  commands: number;
  queuedToDeliveredMs: Distribution;
  queuedToRunningMs: Distribution;
  stagesMs: { deliveredToSeen: Distribution; seenToHandler: Distribution; handlerToRunning: Distribution };
  /** The idle fleet before any command: polls answered per second and what they cost. */
  idle: (ResourceWindow & { pollsPerSecond: number }) | null;
  /** While the commands were issued and run. */
  busy: ResourceWindow;
  client: Omit<ClientStats, 'commands'>;
}

export interface CommandBenchResult {
  reference: RoundTripResult;
  fleet: RoundTripResult;
  /** Fleet p99 / reference p99 of queued → running. */
  p99Ratio: number;
}

const CLIENT = path.join(path.dirname(new URL(import.meta.url).pathname), 'bench-delivery-command-agents.ts');
const BENCH_ACTOR = { type: 'system' as const, id: null, label: 'bench:delivery' };

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

/** Runs `fn` and says what it cost the web server and this database's Postgres backends, and how busy the machine was. */
async function measure<T>(o: CommandBenchOptions, fn: () => Promise<T>): Promise<{ value: T; window: ResourceWindow }> {
  const postgres = meterCpuOf(async () =>
    (
      await o.prisma.$queryRaw<
        { pid: number }[]
      >`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
    ).map((r) => r.pid),
  );
  let webPeakRssKb = 0;
  const rss = setInterval(() => {
    webPeakRssKb = Math.max(
      webPeakRssKb,
      processTree(o.webPid).reduce((s, p) => s + statusKb(p, 'VmRSS'), 0),
    );
  }, 250);
  const web0 = treeCpu(o.webPid);
  const machine0 = machineCpuTicks();
  const started = performance.now();
  let stopped = false;
  try {
    const value = await fn();
    const seconds = (performance.now() - started) / 1000;
    const machine = machineCpuBetween(machine0, machineCpuTicks());
    const webCpu = treeCpu(o.webPid) - web0;
    stopped = true;
    const postgresCpu = await postgres.stop();
    return {
      value,
      window: {
        seconds,
        webCpuPct: (100 * webCpu) / seconds,
        postgresCpuPct: (100 * postgresCpu) / seconds,
        webPeakRssMb: webPeakRssKb / 1024,
        machine: { busyPct: machine?.busyPct ?? null, stealPct: machine?.stealPct ?? null, loadavg1m: loadavg()[0]! },
      },
    };
  } finally {
    clearInterval(rss);
    if (!stopped) await postgres.stop().catch(() => undefined);
  }
}

async function enroll(o: CommandBenchOptions): Promise<SimNode[]> {
  const site = await o.prisma.site.create({ data: { name: 'bench-commands-site', region: 'bench', dataResidency: 'eu' } });
  const cluster = await o.prisma.cluster.create({
    data: { name: 'bench-commands', siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
  });
  const tokens = [];
  for (let i = 0; i < o.agents; i += 1) {
    const t = await createJoinToken(
      { prisma: o.prisma, actor: BENCH_ACTOR },
      { clusterId: cluster.id, expiresInMinutes: 60, description: 'bench:delivery commands' },
    );
    tokens.push({ hostname: `cmd-node-${String(i).padStart(4, '0')}`, joinToken: t.token });
  }
  return enrollSimulatedNodes(o.url, tokens, { gpuModel: SIM_GPU_MODELS.h200, gpusPerNode: 8, concurrency: 8 });
}

/** A process running one command loop per node; resolves once every loop has had its first poll answered. */
async function startAgents(o: CommandBenchOptions, nodes: SimNode[], name: string, rampMs: number) {
  const dir = path.join(o.work, `${name}-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const credentialsFile = path.join(dir, 'credentials.json');
  await writeFile(credentialsFile, JSON.stringify(nodes.map((n) => n.credential)));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLIENT], {
    env: {
      ...process.env,
      BENCH_SERVER: o.url,
      BENCH_CREDENTIALS_FILE: credentialsFile,
      BENCH_STATE_DIR: dir,
      BENCH_RAMP_MS: String(rampMs),
      BENCH_HOLD_MS: String(o.holdMs),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out = lines(child)[Symbol.asyncIterator]();
  const stats = async (): Promise<ClientStats> => {
    child.stdin!.write('stats\n');
    return JSON.parse(await firstLine(out, name)) as ClientStats;
  };
  const stop = async (): Promise<ClientStats> => {
    try {
      child.stdin!.write('stop\n');
      return JSON.parse(await firstLine(out, name)) as ClientStats;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    if ((await firstLine(out, name)) !== 'ready') throw new Error(`${name} did not get ready`);
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return { stats, stop };
}

/** Resolves when every command succeeded; throws when one has not `withinMs` from now. */
async function allSucceeded(o: CommandBenchOptions, ids: string[], withinMs: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const open = await o.prisma.nodeCommand.count({ where: { id: { in: ids }, state: { not: 'succeeded' } } });
    if (open === 0) return;
    if (Date.now() > deadline) throw new Error(`${open} of ${ids.length} commands had not succeeded within ${withinMs / 1000} s`);
    await sleep(everyMs);
  }
}

/**
 * Issues `count` restarts at a steady rate, each to the next node of a shuffled list (no node gets a second
 * before every node had one), and waits until every one succeeded. With fewer nodes than commands (the
 * one-agent reference) each command waits for the one before it to succeed and then one interval: the
 * reference measures an idle agent's round trip, not a queue on one node's engine lane.
 */
async function issueAndWait(o: CommandBenchOptions, nodes: SimNode[], count: number): Promise<string[]> {
  const order = nodes.map((n) => n.nodeId);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const oneAtATime = nodes.length < count;
  const intervalMs = 1000 / o.commandsPerSecond;
  const withinMs = 60_000 + o.holdMs;
  const started = performance.now();
  const issued: Promise<{ id: string }>[] = [];
  for (let i = 0; i < count; i += 1) {
    const due = started + i * intervalMs;
    if (due > performance.now()) await sleep(due - performance.now());
    const command = issueEngineCommand(
      { prisma: o.prisma, actor: BENCH_ACTOR },
      { kind: 'restart_engine', nodeId: order[i % order.length]!, reason: 'bench:delivery round trip' },
    );
    issued.push(command);
    if (oneAtATime) {
      await allSucceeded(o, [(await command).id], withinMs, 50);
      await sleep(intervalMs);
    }
  }
  const ids = (await Promise.all(issued)).map((c) => c.id);
  await allSucceeded(o, ids, withinMs, 250);
  return ids;
}

/**
 * The round trip and its stages from the commands' rows (server instants) and the agents' own instants:
 * queued → delivered (the poll handed it out), → seen (the answer reached the agent), → handler (the loop
 * journalled it as running: an fsync'd file write), → running (the running report was taken by the server).
 */
async function roundTrips(o: CommandBenchOptions, ids: string[], client: ClientStats) {
  const rows = await o.prisma.nodeCommand.findMany({
    where: { id: { in: ids } },
    select: { id: true, issuedAt: true, deliveredAt: true, startedAt: true },
  });
  const agentSide = new Map(client.commands.map((c) => [c.id, c]));
  const stage = (
    from: (r: (typeof rows)[number]) => number | null | undefined,
    to: (r: (typeof rows)[number]) => number | null | undefined,
  ) =>
    distribution(
      rows.flatMap((r) => {
        const a = from(r);
        const b = to(r);
        return a == null || b == null ? [] : [b - a];
      }),
    );
  const issued = (r: (typeof rows)[number]) => r.issuedAt.getTime();
  const delivered = (r: (typeof rows)[number]) => r.deliveredAt?.getTime();
  const seen = (r: (typeof rows)[number]) => agentSide.get(r.id)?.seenAt;
  const handler = (r: (typeof rows)[number]) => agentSide.get(r.id)?.handlerAt;
  const running = (r: (typeof rows)[number]) => r.startedAt?.getTime();
  return {
    queuedToDeliveredMs: stage(issued, delivered),
    queuedToRunningMs: stage(issued, running),
    stagesMs: {
      deliveredToSeen: stage(delivered, seen),
      seenToHandler: stage(seen, handler),
      handlerToRunning: stage(handler, running),
    },
  };
}

async function phase(o: CommandBenchOptions, what: RoundTripResult['what'], nodes: SimNode[], commands: number): Promise<RoundTripResult> {
  // Spread the fleet's loop starts over one long-poll period: idle agents' polls end spread out, not all at once.
  const agents = await startAgents(o, nodes, `command-agents-${what}`, what === 'fleet' ? MAX_COMMAND_POLL_WAIT_SECONDS * 1000 : 0);
  try {
    let idle: RoundTripResult['idle'] = null;
    if (what === 'fleet' && o.idleSeconds > 0) {
      const before = await agents.stats();
      const { window } = await measure(o, () => sleep(o.idleSeconds * 1000));
      const after = await agents.stats();
      idle = { ...window, pollsPerSecond: (after.polls - before.polls) / window.seconds };
    }
    const { value: ids, window: busy } = await measure(o, () => issueAndWait(o, nodes, commands));
    const { commands: perCommand, ...client } = await agents.stop();
    return { what, agents: nodes.length, commands, ...(await roundTrips(o, ids, { ...client, commands: perCommand })), idle, busy, client };
  } catch (e) {
    await agents.stop().catch(() => undefined);
    throw e;
  }
}

/** The reference (one agent) first, then the whole fleet, against the same web server and database. */
export async function runCommandBench(o: CommandBenchOptions): Promise<CommandBenchResult> {
  const nodes = await enroll(o);
  const reference = await phase(o, 'reference', nodes.slice(0, 1), o.referenceCommands);
  const fleet = await phase(o, 'fleet', nodes, o.commands);
  return { reference, fleet, p99Ratio: fleet.queuedToRunningMs.p99 / reference.queuedToRunningMs.p99 };
}

export function formatCommandBench(o: CommandBenchOptions, r: CommandBenchResult): string {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const dist = (d: Distribution) => `p50 ${f(d.p50)} ms, p95 ${f(d.p95)} ms, p99 ${f(d.p99)} ms, max ${f(d.max)} ms`;
  const win = (w: ResourceWindow) =>
    `web ${f(w.webCpuPct, 1)}% CPU, Postgres ${f(w.postgresCpuPct, 1)}% CPU (of one core), web RSS ${f(w.webPeakRssMb)} MB; machine ${f(w.machine.busyPct ?? NaN)}% busy, steal ${f(w.machine.stealPct ?? NaN, 1)}%, load ${f(w.machine.loadavg1m, 1)}`;
  const rows = [r.reference, r.fleet].flatMap((p) => [
    `  ${`${p.what} (${p.agents} agent${p.agents === 1 ? '' : 's'})`.padEnd(24)} queued → running   ${dist(p.queuedToRunningMs)}`,
    `  ${''.padEnd(24)} queued → delivered ${dist(p.queuedToDeliveredMs)}`,
    `  ${''.padEnd(24)} delivered → seen by the agent ${dist(p.stagesMs.deliveredToSeen)}`,
    `  ${''.padEnd(24)} seen → journalled, handler called ${dist(p.stagesMs.seenToHandler)}`,
    `  ${''.padEnd(24)} handler → running report taken ${dist(p.stagesMs.handlerToRunning)}`,
    ...(p.idle ? [`  ${''.padEnd(24)} idle ${f(p.idle.seconds)} s: ${f(p.idle.pollsPerSecond, 1)} polls/s answered; ${win(p.idle)}`] : []),
    `  ${''.padEnd(24)} during ${p.commands} commands (${f(p.busy.seconds, 1)} s): ${win(p.busy)}`,
    `  ${''.padEnd(24)} client: ${f(p.client.cpuSeconds, 1)} CPU-s, peak RSS ${f(p.client.peakRssMb)} MB, ${p.client.polls} polls, failures ${JSON.stringify(p.client.pollFailures)}`,
  ]);
  const p99 = r.fleet.queuedToRunningMs.p99;
  return (
    [
      `── command round trip: ${o.agents} idle agents long-polling, ${o.commands} restarts at ${o.commandsPerSecond}/s to random nodes (reference: 1 agent, ${o.referenceCommands} one at a time)`,
      ...rows,
      `  fleet p99 ${f(p99)} ms (${p99 < 2000 ? 'PASS' : 'MISS'} < 2 s), ${f(r.p99Ratio, 2)}× the one-agent reference`,
    ].join('\n') + '\n'
  );
}
