/**
 * Many idle agents' command loops in one process, for bench:delivery's command round trip: each node runs the
 * real command loop (apps/agent/src/node-commands/command-loop.ts) with the real AgentApiClient and its own
 * node credential and journal, long-polling the control plane exactly as `fleetplane-agent run` does. What
 * a node does with a command is not simulated beyond its handler: a restart_engine "restarts" for
 * BENCH_HOLD_MS (the loop reports running at once, then the outcome, as with the real handler).
 *
 *   BENCH_SERVER=http://127.0.0.1:PORT BENCH_CREDENTIALS_FILE=creds.json BENCH_STATE_DIR=/var/tmp/...
 *   BENCH_RAMP_MS=30000 BENCH_HOLD_MS=100 tsx bench-delivery-command-agents.ts
 *
 * Loop starts are spread over BENCH_RAMP_MS so the long polls of an idle fleet end spread out, as they do
 * once agents have run a while (not all in the same second). Prints `ready` when every loop has had its
 * first poll answered; prints one JSON line of statistics for each `stats` line on stdin, and for `stop` after
 * stopping every loop.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AgentApiClient } from '@fleetplane/agent/api/client';
import { createLogger } from '@fleetplane/agent/logger';
import { startCommandLoop, type CommandApi, type CommandLoop } from '@fleetplane/agent/node-commands/command-loop';

const ZEnv = z.object({
  BENCH_SERVER: z.url(),
  BENCH_CREDENTIALS_FILE: z.string().min(1),
  BENCH_STATE_DIR: z.string().min(1),
  BENCH_RAMP_MS: z.coerce.number().int().min(0).default(0),
  BENCH_HOLD_MS: z.coerce.number().int().min(0).default(100),
});

/** Polls answered and refused, over all loops (a refused poll would make the loop back off and skew latency). */
const stats = { polls: 0, pollFailures: {} as Record<string, number>, handled: 0 };
/**
 * Per command, this process's instants (epoch ms): the poll answer that first listed it arrived, and its handler
 * was called (after the loop journalled it as running; the loop sends the running report right then).
 */
const seenAt = new Map<string, number>();
const handlerAt = new Map<string, number>();

/** The loop's client, counting what the polls got; resolves `firstPoll` on the first answered one. */
function countingClient(client: AgentApiClient, firstPoll: () => void): CommandApi {
  let answered = false;
  return {
    async pollCommands(waitSeconds, signal) {
      const r = await client.pollCommands(waitSeconds, signal);
      if (r.kind === 'ok') {
        stats.polls += 1;
        for (const c of r.body.commands) if (!seenAt.has(c.id)) seenAt.set(c.id, Date.now());
        if (!answered) {
          answered = true;
          firstPoll();
        }
      } else if (!signal?.aborted) stats.pollFailures[r.kind] = (stats.pollFailures[r.kind] ?? 0) + 1;
      return r;
    },
    reportCommand: (id, report, signal) => client.reportCommand(id, report, signal),
    clockOffsetMs: () => client.clockOffsetMs(),
  };
}

async function main() {
  const env = ZEnv.parse(process.env);
  const credentials = z
    .array(z.string().min(1))
    .min(1)
    .parse(JSON.parse(await readFile(env.BENCH_CREDENTIALS_FILE, 'utf8')));
  // One logger for all loops; warnings only (a thousand loops' "running command" lines would be the load).
  const logger = createLogger('warn');
  const loops: CommandLoop[] = [];
  const firstPolls: Promise<void>[] = [];
  const started = Date.now();
  for (const [i, credential] of credentials.entries()) {
    const at = started + (env.BENCH_RAMP_MS * i) / credentials.length;
    if (at > Date.now()) await sleep(at - Date.now());
    const stateDir = path.join(env.BENCH_STATE_DIR, `node-${i}`);
    await mkdir(stateDir, { recursive: true });
    let resolveFirst!: () => void;
    firstPolls.push(new Promise<void>((r) => (resolveFirst = r)));
    loops.push(
      await startCommandLoop({
        client: countingClient(new AgentApiClient({ server: env.BENCH_SERVER, credential }), resolveFirst),
        stateDir,
        logger,
        handlers: {
          restart_engine: async (_payload, ctx) => {
            handlerAt.set(ctx.commandId, Date.now());
            await sleep(env.BENCH_HOLD_MS, undefined, { signal: ctx.signal });
            stats.handled += 1;
            return { restarted: true };
          },
        },
      }),
    );
  }
  await Promise.all(firstPolls);
  process.stdout.write('ready\n');
  const report = () => {
    const cpu = process.cpuUsage();
    const commands = [...seenAt].map(([id, seen]) => ({ id, seenAt: seen, handlerAt: handlerAt.get(id) ?? null }));
    process.stdout.write(
      `${JSON.stringify({ ...stats, commands, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  };
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stats') report();
    if (line === 'stop') break;
  }
  await Promise.all(loops.map((l) => l.stop()));
  report();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
