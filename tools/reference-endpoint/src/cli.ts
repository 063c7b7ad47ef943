#!/usr/bin/env -S npx tsx
import { existsSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ZDegradations } from './degradations.schema';
import type { TLaunchProfile } from './launch-profile';
import { startReferenceEndpoint } from './server';

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

function num(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got "${v}"`);
    return n;
  };
}

const program = new Command('reference-endpoint').description(
  "OpenAI-compatible reference server speaking vLLM's protocol, with switchable degradations.",
);

program
  .command('serve')
  .description('Serve until SIGINT/SIGTERM.')
  .option('--port <port>', 'TCP port (0 = random)', int('--port'), 8000)
  .option('--host <host>', 'Interface to bind', '127.0.0.1')
  .option('--model <name>', 'Served model name', 'deepseek-ai/DeepSeek-V4-Flash')
  .option('--engine <engine>', 'vllm, sglang, llamacpp, mlx or nim: readiness, shutdown, reasoning field, /version', 'vllm')
  .option('--engine-version <version>', 'Reported by /version', '0.11.2')
  .option('--max-model-len <tokens>', 'Context length (max_model_len)', int('--max-model-len'), 1_048_576)
  .option('--seed <n>', 'Seed for every deterministic choice', int('--seed'), 0)
  .option('--ttft-ms <ms>', 'Base time to first token', num('--ttft-ms'), 50)
  .option('--prefill-ms-per-1k <ms>', 'Extra TTFT per 1000 prompt tokens', num('--prefill-ms-per-1k'), 2)
  .option('--itl-ms <ms>', 'Time between output tokens', num('--itl-ms'), 10)
  .option('--stream-interval <tokens>', 'Tokens per streamed chunk after the first (vLLM --stream-interval)', int('--stream-interval'), 1)
  .option('--max-num-seqs <n>', 'Running requests before new ones wait', int('--max-num-seqs'), 1024)
  .option('--api-key <key>', 'Require Authorization: Bearer <key> on /v1/*')
  .option('--degradations <json>', 'Initial degradations as JSON, e.g. \'{"wrongAnswerRate":0.5}\'')
  .option('--artifact-dir <dir>', 'Artifact directory to serve: /v1/models root and the digest from its identity file')
  .option('--served-model-name <name>', 'Alias of --model (vLLM/SGLang spelling)')
  .option('--load-ms <ms>', 'Simulated model load time (env REF_LOAD_MS)', int('--load-ms'))
  .option('--shutdown-timeout <seconds>', "vLLM's drain on SIGTERM: 0 aborts in-flight requests", int('--shutdown-timeout'), 0)
  .option('--fail-start <reason>', 'Fault: the load fails with this root cause and the process exits 1 (env REF_FAIL_START)')
  .option('--crash-after-ms <ms>', 'Fault: exit 1 this long after becoming ready (env REF_CRASH_AFTER_MS)', int('--crash-after-ms'))
  .option('--crash-once-marker <file>', 'With --crash-after-ms: crash only when this file does not exist yet, then create it')
  .option('--serve-artifact-dir <dir>', 'Fault: serve this directory instead of --artifact-dir (env REF_SERVE_ARTIFACT_DIR)')
  // vLLM's own flags the KV cache is sized from (launch-profile.ts), so an operator's real command runs as is.
  .option('--tensor-parallel-size <n>', 'vLLM --tensor-parallel-size', int('--tensor-parallel-size'), 1)
  .option('--gpu-memory-utilization <fraction>', 'vLLM --gpu-memory-utilization', num('--gpu-memory-utilization'), 0.9)
  .option('--kv-cache-dtype <dtype>', 'vLLM --kv-cache-dtype', 'auto')
  .option('--block-size <tokens>', 'vLLM --block-size (default: 256 for DeepSeek V4, else 16)', int('--block-size'))
  .option('--max-num-batched-tokens <n>', 'vLLM --max-num-batched-tokens (default by GPU size)', int('--max-num-batched-tokens'))
  .option('--enforce-eager', 'vLLM --enforce-eager: no CUDA graphs')
  .option('--trust-remote-code', 'vLLM --trust-remote-code (accepted, no effect here)')
  .option('--hf-config-path <path>', "vLLM --hf-config-path: config.json (or its directory) instead of the artifact directory's")
  .option(
    '--weights-bytes <bytes>',
    'Stand-in: bytes of weights loaded (default: the weight files in the artifact directory)',
    int('--weights-bytes'),
  )
  .option('--gpu-memory-mib <list>', 'Stand-in: comma-separated GPU memory in MiB instead of asking nvidia-smi')
  .option('--nvidia-smi <path>', 'Stand-in: the nvidia-smi that lists the GPUs it was given', 'nvidia-smi')
  .option('--ready-json', 'Print one JSON line {"event":"listening","url":…} when ready (for parent processes)')
  .action(async (o: Record<string, unknown>) => {
    let degradations = {};
    if (typeof o.degradations === 'string') {
      let raw: unknown;
      try {
        raw = JSON.parse(o.degradations);
      } catch (err) {
        throw new InvalidArgumentError(`--degradations is not JSON: ${(err as Error).message}`);
      }
      const parsed = ZDegradations.safeParse(raw);
      if (!parsed.success)
        throw new InvalidArgumentError(`--degradations: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      degradations = parsed.data;
    }
    const env = process.env;
    const engine = o.engine as string;
    if (!['vllm', 'sglang', 'llamacpp', 'mlx', 'nim'].includes(engine))
      throw new InvalidArgumentError(`--engine must be vllm, sglang, llamacpp, mlx or nim, got "${engine}"`);
    const envInt = (name: string) => (env[name] !== undefined && env[name] !== '' ? int(name)(env[name]!) : undefined);
    const loadMs = (o.loadMs as number | undefined) ?? envInt('REF_LOAD_MS') ?? 0;
    const failStart = (o.failStart as string | undefined) ?? (env.REF_FAIL_START || undefined);
    const crashAfterMs = (o.crashAfterMs as number | undefined) ?? envInt('REF_CRASH_AFTER_MS');
    const crashOnceMarker = (o.crashOnceMarker as string | undefined) ?? (env.REF_CRASH_ONCE_MARKER || undefined);
    const serveArtifactDir = (o.serveArtifactDir as string | undefined) ?? (env.REF_SERVE_ARTIFACT_DIR || undefined);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let ep: Awaited<ReturnType<typeof startReferenceEndpoint>>;
    try {
      ep = await startReferenceEndpoint({
        port: o.port as number,
        host: o.host as string,
        servedModelName: ((o.servedModelName as string | undefined) ?? o.model) as string,
        engine: engine as 'vllm',
        engineVersion: o.engineVersion as string,
        maxModelLen: o.maxModelLen as number,
        seed: o.seed as number,
        timing: {
          ttftBaseMs: o.ttftMs as number,
          prefillMsPer1kTokens: o.prefillMsPer1k as number,
          itlMs: o.itlMs as number,
          streamInterval: o.streamInterval as number,
        },
        maxNumSeqs: o.maxNumSeqs as number,
        apiKey: o.apiKey as string | undefined,
        degradations,
        artifactDir: o.artifactDir as string | undefined,
        serveArtifactDir,
        loadMs,
        failStart,
        launch: {
          tensorParallelSize: o.tensorParallelSize as number,
          gpuMemoryUtilization: o.gpuMemoryUtilization as number,
          kvCacheDtype: o.kvCacheDtype as string,
          blockSize: (o.blockSize as number | undefined) ?? null,
          maxNumBatchedTokens: (o.maxNumBatchedTokens as number | undefined) ?? null,
          enforceEager: o.enforceEager === true,
          hfConfigPath: o.hfConfigPath as string | undefined,
          weightsBytes: o.weightsBytes as number | undefined,
          gpuMemoryMib: typeof o.gpuMemoryMib === 'string' ? o.gpuMemoryMib.split(',').map(int('--gpu-memory-mib')) : undefined,
          nvidiaSmi: o.nvidiaSmi as string,
        },
      });
    } catch (err) {
      crash((err as Error).message);
    }
    logKvProfile(ep.kvProfile, log);
    // Engines that listen while loading report the failure when the load ends.
    ep.loaded.catch((err: Error) => crash(err.message));
    if (o.readyJson) process.stdout.write(`${JSON.stringify({ event: 'listening', url: ep.url, pid: process.pid })}\n`);
    else
      process.stdout.write(
        `Reference endpoint listening on ${ep.url} (model ${ep.options.servedModelName}, ${ep.options.engine} ${ep.options.engineVersion}, max_model_len ${ep.options.maxModelLen})\n`,
      );
    void ep.loaded.then(() => {
      // The ready lines the real engines print (vLLM via uvicorn, SGLang its own).
      log(engine === 'sglang' ? 'The server is fired up and ready to roll!' : 'INFO:     Application startup complete.');
      if (crashAfterMs === undefined) return;
      if (crashOnceMarker && existsSync(crashOnceMarker)) return;
      setTimeout(() => {
        if (crashOnceMarker) writeFileSync(crashOnceMarker, `${process.pid}\n`);
        log('ERROR [core.py] EngineCore encountered a fatal error.');
        log('vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.');
        process.exit(1);
      }, crashAfterMs).unref();
    });

    // Shutdown as each engine really behaves (engines-and-rollouts.md §5).
    const exitWhenIdle = (deadlineMs: number | null) => {
      const t0 = Date.now();
      const tick = () => {
        if (ep.stats().inFlight === 0 || (deadlineMs !== null && Date.now() - t0 >= deadlineMs)) {
          void ep.close().then(() => process.exit(0));
          return;
        }
        setTimeout(tick, 50);
      };
      tick();
    };
    let signals = 0;
    const onSignal = () => {
      signals += 1;
      switch (engine) {
        case 'vllm':
        case 'nim': {
          // --shutdown-timeout S > 0: reject new requests, wait up to S s for in-flight ones; 0 aborts them.
          const s = o.shutdownTimeout as number;
          ep.beginDrain();
          return s > 0 ? exitWhenIdle(s * 1000) : void ep.close().then(() => process.exit(0));
        }
        case 'sglang':
          // No built-in limit: /health turns 503 and it waits for in-flight requests (the supervisor must enforce a deadline).
          ep.beginDrain();
          return exitWhenIdle(env.SGL_FORCE_SHUTDOWN ? 0 : null);
        case 'llamacpp':
          if (signals > 1) {
            log('Received second interrupt, terminating immediately.');
            process.exit(1);
          }
          // No drain: the HTTP server stops and in-flight requests end.
          return void ep.close().then(() => process.exit(0));
        default:
          return void ep.close().then(() => process.exit(0));
      }
    };
    process.on('SIGINT', onSignal);
    // mlx-lm handles only SIGINT: SIGTERM keeps Node's default action and kills it on the spot.
    if (engine !== 'mlx') process.on('SIGTERM', onSignal);
  });

/** The lines vLLM logs after profiling (gpu_worker.py, kv_cache_utils.py), so engine.log shows where the figure came from. */
function logKvProfile(p: TLaunchProfile | null, log: (line: string) => void): void {
  if (!p || p.kind === 'failed') return;
  if (p.kind === 'unprofiled')
    return log(`WARNING [reference-endpoint] KV cache not profiled (${p.reason}): reporting the stand-in's fixed cache config`);
  const k = p.profile;
  const gib = (n: number) => (n / 1024 ** 3).toFixed(2);
  log(
    `INFO [gpu_worker.py] Memory profiling: requested ${gib(k.requestedBytes)} GiB; weights ${gib(k.weightsBytes)} GiB, peak activations ${gib(k.peakActivationBytes)} GiB, non-torch ${gib(k.nonTorchBytes)} GiB, CUDA graphs ${gib(k.cudaGraphBytes)} GiB`,
  );
  log(`INFO [gpu_worker.py] Available KV cache memory: ${gib(k.availableKvBytes)} GiB`);
  log(
    `INFO [kv_cache_utils.py] GPU KV cache size: ${(k.numGpuBlocks * k.blockSize).toLocaleString('en-US')} tokens (${k.numGpuBlocks} blocks of ${k.blockSize}, ${k.cacheDtype})`,
  );
}

/** vLLM prints the root cause first and the wrapper last, then exits 1. */
function crash(reason: string): never {
  process.stderr.write(`ERROR [core.py] ${reason}\n`);
  process.stderr.write('RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n');
  process.exit(1);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
