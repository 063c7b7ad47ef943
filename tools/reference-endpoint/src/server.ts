import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, join, resolve as resolvePath } from 'node:path';
import { ARTIFACT_IDENTITY_FILE, ZArtifactIdentityFile } from '@fleetplane/contracts';
import type { AddressInfo, Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countApproxChatTokens } from '@fleetplane/domain';
import { clockOffsetMs } from '@fleetplane/validation/client/clock';
import { ZChatCompletionRequest } from './chat-request.schema';
import { ZDegradations, type TDegradations } from './degradations.schema';
import { Generation, ThroughputCap, type TTimelineEntry } from './generation';
import { unitHash } from './hash';
import { profileLaunch, type TLaunchProfile } from './launch-profile';
import { EngineMetrics } from './metrics';
import { planAnswer } from './model';
import { STAND_IN_CACHE_CONFIG, ZReferenceEndpointOptions, type TReferenceEndpointOptions, type TResolvedOptions } from './options.schema';
import { ERROR_TYPES, sendError, sendJson } from './protocol';

export type { TTimelineEntry } from './generation';

export interface TEndpointStats {
  /** Every HTTP request, any path. */
  totalRequests: number;
  completionRequests: number;
  /** Completion requests currently open (waiting, running or being answered). */
  inFlight: number;
  /** The most completion requests that were open at the same time since the last reset. */
  maxConcurrentRequests: number;
  running: number;
  waiting: number;
  succeeded: number;
  failed: number;
  aborted: number;
  promptTokens: number;
  generationTokens: number;
  /** How late this server's event loop ran since the last reset: a busy server delays every stream. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

export interface TReferenceEndpoint {
  url: string;
  port: number;
  options: TResolvedOptions;
  close(): Promise<void>;
  setDegradations(d: TDegradations): TDegradations;
  resetDegradations(): void;
  degradations(): TDegradations;
  stats(): TEndpointStats;
  /** Clears counters, max concurrency and the request timeline. */
  resetStats(): void;
  /** Live per-request records (server clock: performance.now() of this process; add clockOffsetMs for the machine clock). */
  readonly requestTimeline: TTimelineEntry[];
  metricsText(): Promise<string>;
  /** Resolves once the simulated load is done (ready); rejects with `failStart` when the load fails. */
  loaded: Promise<void>;
  /** What /v1/models says it serves: `root`, and the digest read from that directory's identity file. */
  served: { root: string; digest: string | null };
  /** How the KV cache was sized (vllm and nim): profiled like vLLM, fixed (and why), or the load fails. */
  kvProfile: TLaunchProfile | null;
  /** Shutdown has begun: new completions get 503, SGLang's /health turns 503. */
  beginDrain(): void;
}

/** The artifact digest from a directory's identity file (written by the agent's model cache); null without one. */
export function readArtifactDigest(dir: string): string | null {
  const read = (file: string) => {
    try {
      const parsed = ZArtifactIdentityFile.pick({ digest: true }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
      return parsed.success ? parsed.data.digest : null;
    } catch {
      return null;
    }
  };
  // The identity file inside, or the agent model cache's completion marker beside it (<digest>.complete.json).
  const trimmed = resolvePath(dir);
  const marker = read(`${trimmed}.complete.json`);
  return read(join(dir, ARTIFACT_IDENTITY_FILE)) ?? (marker && basename(trimmed) === marker ? marker : null);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error(`Request body larger than ${limit} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function zodMessage(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
}

/**
 * Starts an OpenAI-compatible server that speaks vLLM's protocol (or SGLang's, for the reasoning
 * field name and the absence of /version). Listens on 127.0.0.1 and a random port by default.
 */
export async function startReferenceEndpoint(input: TReferenceEndpointOptions = {}): Promise<TReferenceEndpoint> {
  const opts = ZReferenceEndpointOptions.parse(input);
  let degradations: TDegradations = { ...opts.degradations };
  let cap: ThroughputCap | null = degradations.throughputCapTokensPerSec ? new ThroughputCap(degradations.throughputCapTokensPerSec) : null;
  const timeline: TTimelineEntry[] = [];
  const running = new Set<Generation>();
  const waiting: Generation[] = [];
  const sockets = new Set<Socket>();
  const startedUnix = Math.floor(Date.now() / 1000);
  let requestNumber = 0;
  const stats: Omit<TEndpointStats, 'eventLoopDelayMs'> = {
    totalRequests: 0,
    completionRequests: 0,
    inFlight: 0,
    maxConcurrentRequests: 0,
    running: 0,
    waiting: 0,
    succeeded: 0,
    failed: 0,
    aborted: 0,
    promptTokens: 0,
    generationTokens: 0,
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();

  const servedDir = opts.serveArtifactDir ?? opts.artifactDir;
  const served = servedDir
    ? { root: resolvePath(servedDir), digest: readArtifactDigest(servedDir) }
    : { root: opts.servedModelName, digest: null };
  // vLLM (and NIM, which runs it) size the KV cache at load from the checkpoint, flags and GPUs; a fixed
  // cacheConfig option wins (tests that need exact labels).
  const vllmLike = opts.engine === 'vllm' || opts.engine === 'nim';
  const kvProfile: TLaunchProfile | null =
    vllmLike && !opts.cacheConfig
      ? await profileLaunch({ artifactDir: servedDir, maxModelLen: opts.maxModelLen, maxNumSeqs: opts.maxNumSeqs, launch: opts.launch })
      : null;
  const cacheConfig = !vllmLike
    ? null
    : (opts.cacheConfig ?? (kvProfile?.kind === 'profiled' ? kvProfile.profile.cacheConfig : { ...STAND_IN_CACHE_CONFIG }));
  const kvCapacity =
    opts.kvCacheTokens ??
    (kvProfile?.kind === 'profiled' ? kvProfile.profile.numGpuBlocks * kvProfile.profile.blockSize : opts.maxModelLen * 4);
  // Readiness as each engine really signals it (engines-and-rollouts.md §2).
  const refusesWhileLoading = opts.engine === 'vllm' || opts.engine === 'nim';
  let ready = false;
  let draining = false;
  let markLoaded!: () => void;
  let failLoad!: (e: Error) => void;
  const loaded = new Promise<void>((res, rej) => {
    markLoaded = res;
    failLoad = rej;
  });
  loaded.catch(() => {});
  const loadTimer = setTimeout(() => {
    if (opts.failStart) return failLoad(new Error(opts.failStart));
    // vLLM's start-up refusals (the model and max_model_len do not fit the GPUs it was given).
    if (kvProfile?.kind === 'failed') return failLoad(new Error(kvProfile.error));
    ready = true;
    markLoaded();
  }, opts.loadMs);

  const metrics = new EngineMetrics(
    opts.servedModelName,
    {
      running: () => running.size,
      waiting: () => waiting.length,
      kvUsage: () => {
        let used = 0;
        for (const g of running) used += g.promptTokens + g.emitted;
        return Math.min(1, used / kvCapacity);
      },
    },
    {
      cacheConfig,
      artifact: servedDir ? served : null,
    },
  );

  const setDegradations = (d: TDegradations): TDegradations => {
    degradations = ZDegradations.parse(d);
    cap = degradations.throughputCapTokensPerSec ? new ThroughputCap(degradations.throughputCapTokensPerSec) : null;
    return degradations;
  };

  const hooks = {
    itlMs: opts.timing.itlMs,
    streamInterval: opts.timing.streamInterval,
    cap: () => cap,
    onFirstToken: (_g: Generation, ttftS: number) => metrics.firstToken(ttftS),
    onTokens: (_g: Generation, n: number, gapS: number | null) => {
      stats.generationTokens += n;
      metrics.tokens(n, gapS);
    },
    onFinished: (g: Generation, reason: string) => {
      const wasRunning = running.delete(g);
      const w = waiting.indexOf(g);
      if (w >= 0) waiting.splice(w, 1);
      if (reason === 'abort') stats.aborted += 1;
      else stats.succeeded += 1;
      metrics.finished(reason, ((g.init.entry.finishedAtMs ?? performance.now()) - g.init.entry.receivedAtMs) / 1000);
      if (wasRunning) admit();
    },
  };

  function admit(): void {
    while (running.size < opts.maxNumSeqs && waiting.length) {
      const g = waiting.shift()!;
      running.add(g);
      g.start(performance.now());
    }
  }

  function pushTimeline(entry: TTimelineEntry): void {
    timeline.push(entry);
    if (timeline.length > opts.timelineLimit) timeline.splice(0, timeline.length - opts.timelineLimit);
  }

  async function handleCompletion(req: IncomingMessage, res: ServerResponse, receivedAt: number): Promise<void> {
    stats.completionRequests += 1;
    stats.inFlight += 1;
    stats.maxConcurrentRequests = Math.max(stats.maxConcurrentRequests, stats.inFlight);
    const headerId = req.headers['x-request-id'];
    const n = ++requestNumber;
    const entry: TTimelineEntry = {
      id: typeof headerId === 'string' && headerId ? headerId.slice(0, 200) : `ref-${n}`,
      stream: false,
      receivedAtMs: receivedAt,
      scheduledAtMs: null,
      firstChunkSentAtMs: null,
      lastChunkSentAtMs: null,
      finishedAtMs: null,
      status: null,
      promptTokens: null,
      completionTokens: null,
      finishReason: null,
      aborted: false,
      error: null,
    };
    pushTimeline(entry);
    let generation: Generation | null = null;
    res.on('close', () => {
      stats.inFlight -= 1;
      if (generation && !generation.finished) generation.abort();
    });
    const fail = (status: number, message: string, param: string | null = null) => {
      entry.status = status;
      entry.error = message;
      entry.finishedAtMs = performance.now();
      stats.failed += 1;
      sendError(res, status, message, ERROR_TYPES[status] ?? 'InternalServerError', param);
    };

    const d = degradations;
    if (d.dead) return fail(503, 'The engine is dead (injected by the reference endpoint).');
    if (draining) return fail(503, 'The server is shutting down.');
    if (!ready) {
      // mlx-lm loads in its generation thread: a completion waits for it. Others answer 503 meanwhile.
      if (opts.engine !== 'mlx') return fail(503, 'Loading model');
      try {
        await loaded;
      } catch {
        return fail(503, 'The model failed to load.');
      }
    }
    let raw: string;
    try {
      raw = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      return fail((err as { status?: number }).status ?? 400, (err as Error).message);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      return fail(400, `Invalid JSON in request body: ${(err as Error).message}`);
    }
    const parsed = ZChatCompletionRequest.safeParse(json);
    if (!parsed.success) return fail(400, zodMessage(parsed.error.issues));
    const body = parsed.data;
    entry.stream = body.stream === true;
    if (body.model !== opts.servedModelName) return fail(404, `The model \`${body.model}\` does not exist.`, 'model');
    const promptTokens = countApproxChatTokens(body.messages, body.tools ?? undefined);
    entry.promptTokens = promptTokens;
    if (promptTokens > opts.maxModelLen) {
      return fail(
        400,
        `This model's maximum context length is ${opts.maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`,
        'messages',
      );
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? null;
    if (maxTokens !== null && promptTokens + maxTokens > opts.maxModelLen) {
      return fail(
        400,
        `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${opts.maxModelLen} tokens and your request has ${promptTokens} input tokens (${maxTokens} > ${opts.maxModelLen} - ${promptTokens}).`,
        'max_tokens',
      );
    }
    if (d.errorRate5xx && unitHash(opts.seed, '5xx', n) < d.errorRate5xx)
      return fail(500, 'Internal server error (injected by the reference endpoint).');

    stats.promptTokens += promptTokens;
    metrics.prompt(promptTokens);
    const plan = planAnswer(body, { seed: opts.seed, degradations: d, requestNumber: n });
    const jitter = d.jitterMs ? unitHash(opts.seed, 'jitter', n) * d.jitterMs : 0;
    const ttftMs = opts.timing.ttftBaseMs + (opts.timing.prefillMsPer1kTokens * promptTokens) / 1000 + (d.addedLatencyMs ?? 0) + jitter;
    generation = new Generation(
      {
        entry,
        res,
        plan,
        stream: entry.stream,
        includeUsage: body.stream_options?.include_usage === true,
        promptTokens,
        ttftMs,
        id: `chatcmpl-${entry.id}`,
        created: Math.floor(Date.now() / 1000),
        model: opts.servedModelName,
        reasoningField: opts.engine === 'vllm' ? 'reasoning' : 'reasoning_content',
      },
      hooks,
    );
    if (res.destroyed) return;
    waiting.push(generation);
    admit();
  }

  function modelsBody() {
    return {
      object: 'list',
      data: [
        {
          id: opts.servedModelName,
          object: 'model',
          created: startedUnix,
          owned_by: opts.engine,
          root: served.root,
          parent: null,
          max_model_len: opts.maxModelLen,
          permission: [
            {
              id: `modelperm-${Math.floor(unitHash(opts.seed, 'perm') * 2 ** 32).toString(16)}`,
              object: 'model_permission',
              created: startedUnix,
              allow_create_engine: false,
              allow_sampling: true,
              allow_logprobs: true,
              allow_search_indices: false,
              allow_view: true,
              allow_fine_tuning: false,
              organization: '*',
              group: null,
              is_blocking: false,
            },
          ],
        },
      ],
    };
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/_ref/degradations') {
      if (req.method === 'GET') return sendJson(res, 200, degradations);
      if (req.method === 'DELETE') return sendJson(res, 200, setDegradations({}));
      if (req.method === 'POST' || req.method === 'PUT') {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req, 1024 * 1024));
        } catch (err) {
          return sendError(res, 400, `Invalid JSON: ${(err as Error).message}`, 'BadRequestError');
        }
        const parsed = ZDegradations.safeParse(body);
        if (!parsed.success) return sendError(res, 400, zodMessage(parsed.error.issues), 'BadRequestError');
        return sendJson(res, 200, setDegradations(parsed.data));
      }
    }
    if (path === '/_ref/stats' && req.method === 'GET') return sendJson(res, 200, api.stats());
    if (path === '/_ref/timeline') {
      // clockOffsetMs maps these performance.now() readings onto the machine-wide monotonic clock
      // the runner uses too (see @fleetplane/validation's clock), so a client on the same machine can
      // compare absolute times (request sent vs received, chunk written vs read), not just durations.
      if (req.method === 'GET') return sendJson(res, 200, { timeOrigin: performance.timeOrigin, clockOffsetMs, entries: timeline });
      if (req.method === 'DELETE') {
        api.resetStats();
        return sendJson(res, 200, { ok: true });
      }
    }
    sendJson(res, 404, { detail: 'Not Found' });
  }

  function health(res: ServerResponse, path: string): void {
    const dead = degradations.dead === true;
    switch (opts.engine) {
      case 'llamacpp':
        if (path === '/health_generate') return sendJson(res, 404, { detail: 'Not Found' });
        if (!ready) return sendJson(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
        return sendJson(
          res,
          dead ? 503 : 200,
          dead ? { error: { code: 503, message: 'Engine dead', type: 'server_error' } } : { status: 'ok' },
        );
      case 'mlx':
        // mlx-lm: 200 at once, before the model is loaded; /health does not mean ready.
        if (path !== '/health') return sendJson(res, 404, { detail: 'Not Found' });
        return sendJson(res, 200, { status: 'ok' });
      case 'sglang':
        if (path === '/v1/health') return sendJson(res, 404, { detail: 'Not Found' });
        res.writeHead(ready && !draining && !dead ? 200 : 503, { 'content-length': 0 });
        res.end();
        return;
      default:
        if (path !== '/health') return sendJson(res, 404, { detail: 'Not Found' });
        res.writeHead(dead ? 503 : 200, { 'content-length': 0 });
        res.end();
        return;
    }
  }

  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    const receivedAt = performance.now();
    stats.totalRequests += 1;
    const path = (req.url ?? '/').split('?')[0]!;
    void (async () => {
      if (opts.apiKey && path.startsWith('/v1/') && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        return sendJson(res, 401, { error: 'Unauthorized' });
      }
      if (path === '/v1/chat/completions') {
        if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });
        return handleCompletion(req, res, receivedAt);
      }
      if (path.startsWith('/_ref/')) return handleAdmin(req, res, path);
      if (req.method !== 'GET') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      switch (path) {
        case '/v1/models':
          return sendJson(res, 200, modelsBody());
        case '/health':
        case '/health_generate':
        case '/v1/health':
          return health(res, path);
        case '/v1/health/live':
        case '/v1/health/ready':
          if (opts.engine !== 'nim') return sendJson(res, 404, { detail: 'Not Found' });
          if (path === '/v1/health/live')
            return sendJson(res, 200, { message: 'Service is live.', object: 'health.response', status: 'live' });
          if (ready && !draining && !degradations.dead)
            return sendJson(res, 200, { message: 'Service is ready.', object: 'health.response', status: 'ready' });
          return sendJson(res, 503, { message: 'Service is not ready.', object: 'health.response', status: 'not_ready' });
        case '/version':
          // Only vLLM has /version; the runner must fall back to the cluster's record for the others.
          if (opts.engine !== 'vllm') return sendJson(res, 404, { detail: 'Not Found' });
          return sendJson(res, 200, { version: opts.engineVersion });
        case '/metrics': {
          const text = await metrics.text();
          res.writeHead(200, { 'content-type': metrics.contentType });
          return res.end(text);
        }
        default:
          return sendJson(res, 404, { detail: 'Not Found' });
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `Reference endpoint error: ${(err as Error).message}`, 'InternalServerError');
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // vLLM binds before loading but only listens once the engine is up: connections are refused meanwhile.
  if (refusesWhileLoading) {
    try {
      await loaded;
    } catch (err) {
      loopDelay.disable();
      throw err;
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const api: TReferenceEndpoint = {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    options: opts,
    kvProfile,
    requestTimeline: timeline,
    loaded,
    served,
    beginDrain() {
      draining = true;
    },
    async close() {
      clearTimeout(loadTimer);
      loopDelay.disable();
      for (const g of [...running, ...waiting]) g.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    setDegradations,
    resetDegradations: () => void setDegradations({}),
    degradations: () => degradations,
    stats: () => ({
      ...stats,
      running: running.size,
      waiting: waiting.length,
      eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    }),
    resetStats() {
      loopDelay.reset();
      Object.assign(stats, {
        totalRequests: 0,
        completionRequests: 0,
        maxConcurrentRequests: stats.inFlight,
        succeeded: 0,
        failed: 0,
        aborted: 0,
        promptTokens: 0,
        generationTokens: 0,
      });
      timeline.length = 0;
    },
    metricsText: () => metrics.text(),
  };
  return api;
}
