/**
 * One simulated agent for bench:delivery: the real ModelCache (apps/agent) with the real AgentApiClient,
 * fetching one artifact from the control plane into its own cache directory. Started by bench-delivery.ts;
 * prints `ready`, waits for a line on stdin (so every agent starts at once), then prints a JSON result.
 *
 *   BENCH_SERVER=http://127.0.0.1:PORT BENCH_CREDENTIAL=fpn_... BENCH_CACHE_DIR=/var/tmp/... BENCH_REF=<json> tsx bench-delivery-agent.ts
 */
import { once } from 'node:events';
import { ZArtifactRef } from '@fleetplane/contracts';
import { AgentApiClient } from '@fleetplane/agent/api/client';
import { ModelCache } from '@fleetplane/agent/model-cache/model-cache';

async function main() {
  const ref = ZArtifactRef.parse(JSON.parse(process.env.BENCH_REF ?? ''));
  const client = new AgentApiClient({ server: process.env.BENCH_SERVER!, credential: process.env.BENCH_CREDENTIAL! });
  const cache = new ModelCache({ dir: process.env.BENCH_CACHE_DIR!, client, protectedDigests: () => new Set(), reserveBytes: 0 });
  process.stdout.write('ready\n');
  process.stdin.resume();
  await once(process.stdin, 'data');
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await cache.ensureArtifact(ref, {
    signal: new AbortController().signal,
    progress: () => undefined,
    bandwidthMbps: null,
  });
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({
      seconds: (performance.now() - started) / 1000,
      downloadedBytes: result.downloadedBytes,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
