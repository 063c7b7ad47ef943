import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZTelemetryBatch } from '@fleetplane/contracts';
import { AgentApiClient } from '../api/client';
import { collectEngineMetrics } from '../collectors/engine-metrics';
import { HostFactsCollector, resolveHostname } from '../collectors/host';
import { NvidiaSmiCollector } from '../collectors/nvidia-smi';
import { XidCollector } from '../collectors/xid';
import { ConfigError, DEFAULT_INTERVAL_SECONDS, readStoredCredential, type TRunConfig } from '../config';
import { Shipper } from '../delivery/shipper';
import { loadArtifactHandler, restartEngineHandler, stopEngineHandler } from '../engine/handlers';
import { NodeStateReporter } from '../engine/reporter';
import { EngineSupervisor } from '../engine/supervisor';
import { evictArtifactHandler, prefetchArtifactHandler } from '../model-cache/handlers';
import { ModelCache } from '../model-cache/model-cache';
import { startCommandLoop, type CommandLoop } from '../node-commands/command-loop';
import type { Logger } from '../logger';
import { DiskQueue, QueueLockedError, type TQueuedBatch } from '../queue/disk-queue';
import { RepeatedWarnings, SourceHealth } from './source-health';

export interface RunDeps {
  logger: Logger;
  /** Aborted on SIGTERM/SIGINT: the current cycle finishes its write, then the agent exits. */
  signal: AbortSignal;
  stdout?: (text: string) => void;
}

interface Collectors {
  nvidia: NvidiaSmiCollector;
  host: HostFactsCollector;
  xid: XidCollector | null;
  metricsUrl: string | undefined;
  health: Record<'gpu' | 'xid' | 'engine' | 'host', SourceHealth>;
  warnings: RepeatedWarnings;
}

async function collect(c: Collectors): Promise<{ batch: TQueuedBatch; commitXid: () => Promise<void> }> {
  const now = new Date();
  const enginePromise = c.metricsUrl ? collectEngineMetrics(c.metricsUrl, now) : Promise.resolve({ samples: [], error: null });
  // Independent nvidia-smi invocations run side by side: a cycle costs one round of process start-up.
  const [gpu, hostFacts] = await Promise.all([c.nvidia.collect(now), c.host.get(now)]);
  c.health.gpu.report(gpu.error);
  for (const warning of gpu.warnings) c.warnings.warn('nvidia-smi', warning);
  // When the GPU query fails too, the host-facts failure has the same cause: report it once.
  c.health.host.report(gpu.error ? null : hostFacts.error);
  c.xid?.learnGpus(gpu.samples);
  const xid = c.xid ? await c.xid.collect(now) : { events: [], error: null, warnings: [], commit: async () => {} };
  c.health.xid.report(xid.error);
  for (const warning of xid.warnings) c.warnings.warn('kernel log', warning);
  const engine = await enginePromise;
  c.health.engine.report(engine.error);
  return {
    batch: {
      batchId: randomUUID(),
      enqueuedAt: now.toISOString(),
      host: hostFacts.facts,
      gpuSamples: gpu.samples,
      xidEvents: xid.events,
      engineSamples: engine.samples,
    },
    commitXid: xid.commit,
  };
}

/** `run`: collect every interval, queue on disk, deliver in the background. Returns the exit code. */
export async function runAgent(config: TRunConfig, deps: RunDeps): Promise<number> {
  const { logger, signal } = deps;
  const stdout = deps.stdout ?? ((text: string) => process.stdout.write(text));
  const hostname = resolveHostname(config.hostname);

  let server: string | undefined;
  let credential: string | undefined;
  let intervalSeconds = config.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  if (!config.dryRun) {
    const stored = await readStoredCredential(config.credentialPath);
    if (stored.warning) logger.warn(stored.warning);
    server = config.server ?? stored.credential.server;
    credential = stored.credential.credential;
    intervalSeconds = config.intervalSeconds ?? stored.credential.reportIntervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
    logger.info({ nodeId: stored.credential.nodeId, clusterId: stored.credential.clusterId, server }, 'agent starting');
  }

  const nvidia = new NvidiaSmiCollector(config.nvidiaSmi);
  const collectors: Collectors = {
    nvidia,
    host: new HostFactsCollector(nvidia, hostname),
    xid: config.kernelLog
      ? new XidCollector({ path: config.kernelLog, statePath: config.dryRun ? null : join(config.queueDir, 'kernel-log-offset.json') })
      : null,
    metricsUrl: config.metricsUrl,
    health: {
      gpu: new SourceHealth('nvidia-smi', logger),
      xid: new SourceHealth('kernel log', logger),
      engine: new SourceHealth('engine metrics', logger),
      host: new SourceHealth('host facts', logger),
    },
    warnings: new RepeatedWarnings(logger),
  };

  if (config.dryRun) {
    // Nothing is queued or sent and no state is written; the Xid position lives in memory only.
    do {
      const { batch, commitXid } = await collect(collectors);
      const { enqueuedAt: _enqueuedAt, ...rest } = batch;
      stdout(`${JSON.stringify(ZTelemetryBatch.parse({ ...rest, sentAt: new Date().toISOString(), droppedSamples: 0 }))}\n`);
      await commitXid();
      if (config.once) break;
      await sleep(intervalSeconds * 1000, undefined, { signal }).catch(() => {});
    } while (!signal.aborted);
    return 0;
  }

  let queue: DiskQueue;
  try {
    queue = await DiskQueue.open(config.queueDir, {
      maxBytes: config.queueMaxBytes,
      onWarning: (message, details) => logger.warn(details ?? {}, message),
    });
  } catch (err) {
    if (err instanceof QueueLockedError) throw new ConfigError(err.message);
    throw new ConfigError(`Cannot use the queue directory ${config.queueDir}: ${(err as Error).message} (set --queue-dir)`);
  }
  const client = new AgentApiClient({ server: server!, credential: credential! });
  const shipper = new Shipper({ queue, client, logger, retryMaxMs: config.retryMaxSeconds * 1000 });
  let engine: Awaited<ReturnType<typeof startEngineAndCommands>> | null = null;

  const cycle = async () => {
    const { batch, commitXid } = await collect(collectors);
    await queue.enqueue(batch);
    await commitXid();
    const mem = process.memoryUsage();
    logger.info(
      {
        batchId: batch.batchId,
        gpuSamples: batch.gpuSamples.length,
        xidEvents: batch.xidEvents.length,
        engineSamples: batch.engineSamples.length,
        pending: queue.pendingCount,
        pendingBytes: queue.pendingBytes,
        droppedSinceAccepted: queue.droppedSinceAccepted,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
      },
      'collected',
    );
  };

  try {
    if (config.once) {
      await cycle();
      const result = await shipper.drainOnce();
      if (result.blockedBy) {
        const what =
          result.blockedBy.kind === 'unauthorized'
            ? `the server refused this node's credential (${result.blockedBy.message}): re-enroll the node`
            : `delivery failed: ${result.blockedBy.message}`;
        logger.error({ pending: queue.pendingCount }, `${what}; ${queue.pendingCount} batch(es) stay queued in ${config.queueDir}`);
        return 1;
      }
      if (result.deadLettered > 0) {
        logger.error(
          { deadLettered: result.deadLettered },
          `the server refused ${result.deadLettered} batch(es); they were moved to ${join(config.queueDir, 'dead-letter')}`,
        );
        return 1;
      }
      logger.info({ sent: result.sent }, 'delivered');
      return 0;
    }

    shipper.start();
    engine = config.commands ? await startEngineAndCommands(config, client, logger, intervalSeconds) : null;
    const started = Date.now();
    let tick = 0;
    while (!signal.aborted) {
      try {
        await cycle();
        shipper.kick();
      } catch (err) {
        logger.error({ err }, `collection cycle failed: ${(err as Error).message}`);
      }
      // Fixed-rate schedule; a cycle that overran skips the ticks it missed instead of bunching up.
      const elapsed = Date.now() - started;
      tick = Math.max(tick + 1, Math.ceil(elapsed / (intervalSeconds * 1000)));
      await sleep(started + tick * intervalSeconds * 1000 - Date.now(), undefined, { signal }).catch(() => {});
    }
    logger.info({ pending: queue.pendingCount }, 'stopping: queued batches stay on disk for the next start');
    return 0;
  } finally {
    await engine?.stop();
    await shipper.stop();
    await queue.close();
  }
}

/**
 * The engine side of `run`: the supervisor (adopting an engine a previous agent process left running), the
 * model cache, the node-state reporter and the command loop with a handler per command kind. stop() leaves
 * the engine serving: an agent restart (upgrade, crash) must not take the model offline.
 */
async function startEngineAndCommands(config: TRunConfig, client: AgentApiClient, logger: Logger, intervalSeconds: number) {
  const stateDir = config.stateDir ?? dirname(config.queueDir);
  const supervisor = new EngineSupervisor({ stateDir, log: logger, bindHost: config.engineBindHost, port: config.enginePort });
  // Recovery may wait for an adopted engine to become ready; telemetry and polling go on meanwhile, and
  // engine commands queue behind it (the supervisor serialises its operations).
  const recovering = supervisor.recover().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'engine recovery failed'));
  let loop: CommandLoop | null = null;
  const cache = new ModelCache({
    dir: config.cacheDir,
    client,
    protectedDigests: () => {
      const digests = loop?.openDigests() ?? new Set<string>();
      const serving = supervisor.status().artifactDigest;
      if (serving) digests.add(serving);
      return digests;
    },
    log: logger.child({ component: 'model-cache' }),
  });
  const reporter = new NodeStateReporter({ client, supervisor, cacheReport: () => cache.report(), intervalSeconds, log: logger }).start();
  loop = await startCommandLoop({
    client,
    stateDir,
    logger: logger.child({ component: 'commands' }),
    handlers: {
      prefetch_artifact: prefetchArtifactHandler(cache),
      evict_artifact: evictArtifactHandler(cache),
      load_artifact: loadArtifactHandler(supervisor, cache),
      restart_engine: restartEngineHandler(supervisor),
      stop_engine: stopEngineHandler(supervisor),
    },
  });
  const commands = loop;
  return {
    async stop() {
      await commands.stop();
      await reporter.stop();
      await recovering;
      await supervisor.detach();
    },
  };
}
