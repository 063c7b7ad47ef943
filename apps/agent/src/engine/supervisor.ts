import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fillLaunchPlaceholders, ZEngineLaunchSpec, type TEngineLaunchSpec, type TEngineState } from '@fleetplane/contracts';
import { z } from 'zod';
import type { Logger } from '../logger';
import { writeFileAtomic } from '../queue/atomic-file';
import { probe, readinessPath, readServedIdentity } from './probe';

/**
 * Runs the node's serving engine (docs/engine.md). Child mode: argv is the agent's child in its own
 * process group, stdout/stderr appended to engine.log. Command mode: argv starts a systemd unit or a
 * container and returns; stopArgv stops it; liveness comes from the engine's health endpoint.
 *
 * The supervisor waits for readiness the way each engine signals it, then confirms with /v1/models and
 * a 1-token completion; restarts a crashed engine with exponential backoff; drains before stopping
 * (SIGTERM, or SIGINT for mlx-lm which ignores SIGTERM's drain, then SIGKILL to the whole group after
 * the drain window); and keeps a state file so that after an agent restart recover() adopts the engine it
 * left running, or cleans it up. One operation at a time: load, restart, stop and recovery are serialised.
 */

export interface EngineReadyResult {
  endpointUrl: string;
  servedModelIds: string[];
  artifactDigest: string | null;
  loadSeconds: number;
}

export interface EngineStatus {
  state: TEngineState;
  kind: TEngineLaunchSpec['kind'] | null;
  version: string | null;
  endpointUrl: string | null;
  /** Where /health, /v1/models and /metrics answer (loopback when the engine binds a wildcard). */
  probeUrl: string | null;
  artifactDir: string | null;
  /** The digest the supervisor was asked to serve (what the engine really serves comes from the engine). */
  artifactDigest: string | null;
  restarts: number;
  lastError: string | null;
  lastLoadSeconds: number | null;
  pid: number | null;
  spec: TEngineLaunchSpec | null;
}

export interface EngineSupervisorOptions {
  stateDir: string;
  log: Logger;
  /** Replaces the spec's bind address ({host}); tests bind 127.0.0.1. */
  bindHost?: string;
  /** Replaces the spec's port ({port}): several agents on one machine (the demo) each run an engine on their own port. */
  port?: number;
  /** Host in the reported endpoint URL when the engine binds a wildcard address (default: this host's name). */
  advertiseHost?: string;
  /** Crash restarts: first delay, cap, consecutive failed starts before giving up ("failed"), and how long ready counts as stable. */
  backoff?: Partial<{ initialMs: number; maxMs: number; maxConsecutiveFailures: number; stableAfterMs: number }>;
  /** Readiness poll interval. */
  pollMs?: number;
  /** After the drain window, how long to wait for exit before SIGKILL. */
  killGraceMs?: number;
}

const ZPersisted = z.object({
  version: z.literal(1),
  desired: z.enum(['running', 'stopped']),
  spec: ZEngineLaunchSpec.nullable(),
  artifactDir: z.string().nullable(),
  artifactDigest: z.string().nullable(),
  /** Child mode: the engine's pid, which is also its process group id. */
  pid: z.number().int().nullable(),
  lastLoadSeconds: z.number().nullable(),
});
type Persisted = z.infer<typeof ZPersisted>;

interface Running {
  pid: number | null;
  exited: Promise<{ code: number | null; signal: string | null; reason?: string }>;
  /** Command mode: stops the liveness monitor. */
  dispose(): void;
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);
const LOG_ROTATE_BYTES = 64 * 1024 * 1024;

export class EngineStartError extends Error {
  override readonly name = 'EngineStartError';
}

export class EngineSupervisor {
  private readonly log: Logger;
  private readonly stateFile: string;
  private readonly logFile: string;
  private readonly backoff: { initialMs: number; maxMs: number; maxConsecutiveFailures: number; stableAfterMs: number };
  private readonly pollMs: number;
  private readonly killGraceMs: number;
  private lock: Promise<unknown> = Promise.resolve();
  private running: Running | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private consecutiveFailures = 0;
  private readyAt = 0;
  private listeners = new Set<() => void>();
  private ready: EngineReadyResult | null = null;
  private s: Omit<EngineStatus, 'endpointUrl' | 'probeUrl' | 'kind' | 'version'> = {
    state: 'stopped',
    artifactDir: null,
    artifactDigest: null,
    restarts: 0,
    lastError: null,
    lastLoadSeconds: null,
    pid: null,
    spec: null,
  };

  constructor(private readonly options: EngineSupervisorOptions) {
    this.log = options.log.child({ component: 'engine' });
    this.stateFile = join(options.stateDir, 'engine-state.json');
    this.logFile = join(options.stateDir, 'engine.log');
    this.backoff = { initialMs: 1000, maxMs: 60_000, maxConsecutiveFailures: 5, stableAfterMs: 60_000, ...options.backoff };
    this.pollMs = options.pollMs ?? 500;
    this.killGraceMs = options.killGraceMs ?? 10_000;
  }

  /** Called after every state change (the node-state reporter reports right away). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): EngineStatus {
    const spec = this.s.spec;
    return {
      ...this.s,
      kind: spec?.kind ?? null,
      version: spec?.version ?? null,
      endpointUrl: spec ? this.endpointUrl(spec) : null,
      probeUrl: spec ? this.probeUrl(spec) : null,
    };
  }

  /** The ready result of the engine serving now (for ensure semantics), or null. */
  currentReady(): EngineReadyResult | null {
    return this.s.state === 'ready' ? this.ready : null;
  }

  logPath(): string {
    return this.logFile;
  }

  /** Stop whatever runs and start `spec` on `dir`; resolves when ready. On failure the new engine is stopped and nothing is restored. */
  load(spec: TEngineLaunchSpec, dir: string, digest: string | null, signal: AbortSignal): Promise<EngineReadyResult> {
    return this.exclusive(async () => {
      await this.stopInternal(this.s.spec?.drainSeconds ?? spec.drainSeconds);
      this.s.restarts = 0;
      this.consecutiveFailures = 0;
      return this.startInternal(spec, dir, digest, signal, 'load');
    });
  }

  /** Restart the current engine with the same spec and directory. */
  restart(signal: AbortSignal): Promise<EngineReadyResult> {
    return this.exclusive(async () => {
      const { spec, artifactDir, artifactDigest } = this.s;
      if (!spec || !artifactDir) throw new EngineStartError('No engine has been loaded on this node: there is nothing to restart');
      await this.stopInternal(spec.drainSeconds);
      this.consecutiveFailures = 0;
      return this.startInternal(spec, artifactDir, artifactDigest, signal, 'restart');
    });
  }

  /** Drain and stop; the engine stays stopped (also across agent restarts) until the next load. */
  stop(drainSeconds?: number): Promise<void> {
    return this.exclusive(async () => {
      await this.stopInternal(drainSeconds ?? this.s.spec?.drainSeconds ?? 0);
      await this.persist('stopped');
      this.emit();
    });
  }

  /** At agent start: adopt the engine the previous agent process left running, or clean it up. */
  recover(): Promise<void> {
    return this.exclusive(async () => {
      await mkdir(this.options.stateDir, { recursive: true });
      let saved: Persisted | null = null;
      try {
        const parsed = ZPersisted.safeParse(JSON.parse(await readFile(this.stateFile, 'utf8')));
        saved = parsed.success ? parsed.data : null;
        if (!parsed.success) this.log.warn('engine state file unreadable; starting with the engine stopped');
      } catch {
        saved = null;
      }
      if (!saved?.spec) return;
      const spec = saved.spec;
      Object.assign(this.s, {
        spec,
        artifactDir: saved.artifactDir,
        artifactDigest: saved.artifactDigest,
        lastLoadSeconds: saved.lastLoadSeconds,
      });
      const alive =
        spec.mode === 'child' &&
        saved.pid !== null &&
        (await isSameProcess(saved.pid, spec, this.resolveArgv(spec, saved.artifactDir ?? '')));
      if (saved.desired === 'stopped') {
        if (alive) {
          this.log.warn({ pid: saved.pid }, 'an engine is still running although it was stopped; stopping it');
          this.running = adoptPid(saved.pid!);
          await this.stopInternal(spec.drainSeconds);
        }
        this.s.state = 'stopped';
        return;
      }
      if (spec.mode === 'child' && alive) {
        this.log.info({ pid: saved.pid }, 'adopting the engine left running by the previous agent process');
        this.running = adoptPid(saved.pid!);
        this.s.pid = saved.pid;
        this.s.state = 'starting';
        this.emit();
        try {
          await this.waitReady(spec, this.running, new AbortController().signal, Date.now());
          this.markReady(spec, this.running, saved.lastLoadSeconds ?? 0);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'the adopted engine is not healthy; restarting it');
          await this.killGroup(this.running);
          this.handleExit(this.running, { code: null, signal: null, reason: (err as Error).message });
        }
        return;
      }
      if (spec.mode === 'command') {
        const url = this.probeUrl(spec);
        const path = readinessPath(spec.kind) ?? '/v1/models';
        if ((await probe(`${url}${path}`, { timeoutMs: 5000 })).ok) {
          this.log.info('the engine unit is up; adopting it');
          this.running = this.commandHandle(spec);
          this.markReady(spec, this.running, saved.lastLoadSeconds ?? 0);
          return;
        }
      }
      // It should run but does not: start it again, through the crash path (backoff, restart count).
      this.s.state = 'crashed';
      this.s.lastError = 'The engine was not running when the agent started';
      this.emit();
      this.scheduleRestart();
    });
  }

  /** Stops the crash-restart timer and forgets the engine without stopping it (agent shutdown: the engine keeps serving). */
  async detach(): Promise<void> {
    await this.exclusive(async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.running?.dispose();
      this.running = null;
    });
  }

  // ───────────────────────────── internals ─────────────────────────────

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.log.warn({ err }, 'engine change listener failed');
      }
    }
  }

  private bindHost(spec: TEngineLaunchSpec): string {
    return this.options.bindHost ?? spec.host;
  }

  private probeUrl(spec: TEngineLaunchSpec): string {
    const h = this.bindHost(spec);
    return `http://${WILDCARD.has(h) ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h}:${this.options.port ?? spec.port}`;
  }

  private endpointUrl(spec: TEngineLaunchSpec): string {
    const h = this.bindHost(spec);
    const host = WILDCARD.has(h) ? (this.options.advertiseHost ?? hostname()) : h;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.options.port ?? spec.port}`;
  }

  private resolveArgv(spec: TEngineLaunchSpec, dir: string): { argv: string[]; env: Record<string, string> } {
    const values = { artifact_dir: dir, port: this.options.port ?? spec.port, host: this.bindHost(spec) };
    return {
      argv: spec.argv.map((w) => fillLaunchPlaceholders(w, values)),
      env: Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, fillLaunchPlaceholders(v, values)])),
    };
  }

  private async persist(desired: 'running' | 'stopped'): Promise<void> {
    const p: Persisted = {
      version: 1,
      desired,
      spec: this.s.spec,
      artifactDir: this.s.artifactDir,
      artifactDigest: this.s.artifactDigest,
      pid: this.s.pid,
      lastLoadSeconds: this.s.lastLoadSeconds,
    };
    await writeFileAtomic(this.stateFile, JSON.stringify(p));
  }

  private async startInternal(
    spec: TEngineLaunchSpec,
    dir: string,
    digest: string | null,
    signal: AbortSignal,
    why: 'load' | 'restart' | 'crash-restart',
  ): Promise<EngineReadyResult> {
    const t0 = Date.now();
    Object.assign(this.s, { spec, artifactDir: dir, artifactDigest: digest, state: 'starting' as const, pid: null });
    if (why === 'load') this.s.lastError = null;
    this.ready = null;
    this.emit();
    let running: Running;
    try {
      running = spec.mode === 'child' ? await this.spawnChild(spec, dir) : await this.runStartCommand(spec, dir);
    } catch (err) {
      this.s.state = why === 'crash-restart' ? 'crashed' : 'failed';
      this.s.lastError = (err as Error).message;
      await this.persist('running');
      this.emit();
      throw err;
    }
    this.running = running;
    this.s.pid = running.pid;
    await this.persist('running');
    this.log.info({ pid: running.pid, kind: spec.kind, why, dir }, 'engine started; waiting for it to be ready');
    try {
      await this.waitReady(spec, running, signal, t0);
    } catch (err) {
      const message = (err as Error).message;
      await this.killGroup(running, spec);
      this.running = null;
      // A crash restart that fails stays "crashed" (the backoff goes on); a load or restart that fails is final.
      this.s.state = why === 'crash-restart' ? 'crashed' : 'failed';
      this.s.pid = null;
      this.s.lastError = message;
      await this.persist('running');
      this.emit();
      throw new EngineStartError(message);
    }
    const result = this.markReady(spec, running, (Date.now() - t0) / 1000);
    await this.persist('running');
    const served = result.artifactDigest;
    if (digest && served && served !== digest) {
      // The engine is up but serves another artifact (a template pointing elsewhere): it keeps running,
      // the caller decides, and the node state shows what is really served.
      const message = `The engine serves artifact ${served.slice(0, 12)}, not the requested ${digest.slice(0, 12)}`;
      this.s.lastError = message;
      this.emit();
      throw new EngineStartError(message);
    }
    return result;
  }

  private markReady(spec: TEngineLaunchSpec, running: Running, loadSeconds: number): EngineReadyResult {
    this.s.state = 'ready';
    this.s.lastLoadSeconds = Math.round(loadSeconds * 1000) / 1000;
    this.readyAt = Date.now();
    this.ready = {
      endpointUrl: this.endpointUrl(spec),
      servedModelIds: this.lastModelIds,
      artifactDigest: this.lastServedDigest,
      loadSeconds: this.s.lastLoadSeconds,
    };
    void running.exited.then((exit) => this.handleExit(running, exit));
    this.log.info({ loadSeconds: this.s.lastLoadSeconds, endpoint: this.ready.endpointUrl }, 'engine ready');
    this.emit();
    return this.ready;
  }

  private lastModelIds: string[] = [];
  private lastServedDigest: string | null = null;

  private handleExit(running: Running, exit: { code: number | null; signal: string | null; reason?: string }): void {
    if (this.running !== running || this.stopping) return;
    this.running = null;
    running.dispose();
    void (async () => {
      const tail = await this.logTail();
      const how = exit.reason ?? `exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}`;
      this.s.state = 'crashed';
      this.s.pid = null;
      this.s.lastError = `${how}${tail ? `\n${tail}` : ''}`.slice(0, 4096);
      this.log.error({ exit, tail }, 'engine crashed');
      this.emit();
      this.scheduleRestart();
    })();
  }

  private scheduleRestart(): void {
    if (this.restartTimer) return;
    if (this.readyAt && Date.now() - this.readyAt > this.backoff.stableAfterMs) this.consecutiveFailures = 0;
    if (this.consecutiveFailures >= this.backoff.maxConsecutiveFailures) {
      this.s.state = 'failed';
      this.s.lastError = `Gave up after ${this.consecutiveFailures} failed restarts. ${this.s.lastError ?? ''}`.slice(0, 4096);
      this.log.error('engine keeps crashing; not restarting it again until the next load or restart command');
      this.emit();
      return;
    }
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.consecutiveFailures);
    this.consecutiveFailures += 1;
    this.log.warn({ delayMs: delay, attempt: this.consecutiveFailures }, 'restarting the engine after backoff');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.exclusive(async () => {
        const { spec, artifactDir, artifactDigest } = this.s;
        // A load, restart or stop in the meantime owns the engine now.
        if (this.s.state !== 'crashed' || !spec || !artifactDir) return;
        this.s.restarts += 1;
        try {
          await this.startInternal(spec, artifactDir, artifactDigest, new AbortController().signal, 'crash-restart');
          this.readyAt = Date.now();
        } catch (err) {
          this.s.state = 'crashed';
          this.s.lastError = (err as Error).message.slice(0, 4096);
          this.emit();
          this.scheduleRestart();
        }
      });
    }, delay);
    this.restartTimer.unref();
  }

  private async spawnChild(spec: TEngineLaunchSpec, dir: string): Promise<Running> {
    const { argv, env } = this.resolveArgv(spec, dir);
    await mkdir(this.options.stateDir, { recursive: true });
    await this.rotateLog();
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      await appendLine(this.logFile, `--- ${new Date().toISOString()} starting: ${argv.join(' ')}`);
      // detached: its own process group, so stop() can signal the engine and all its workers at once,
      // and the engine survives an agent crash (recover() adopts it).
      child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    } finally {
      closeSync(fd);
    }
    const spawned = await new Promise<{ ok: true } | { ok: false; error: Error }>((resolve) => {
      child.once('spawn', () => resolve({ ok: true }));
      child.once('error', (error) => resolve({ ok: false, error }));
    });
    if (!spawned.ok) throw new EngineStartError(`Cannot start ${argv[0]}: ${spawned.error.message}`);
    child.unref();
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    return { pid: child.pid!, exited, dispose: () => {} };
  }

  private async runStartCommand(spec: TEngineLaunchSpec, dir: string): Promise<Running> {
    const { argv, env } = this.resolveArgv(spec, dir);
    await runToEnd(argv, env, 120_000, this.logFile);
    return this.commandHandle(spec);
  }

  /** Command mode: the unit is not our child; it counts as exited after three failed liveness probes in a row. */
  private commandHandle(spec: TEngineLaunchSpec): Running {
    const url = `${this.probeUrl(spec)}${readinessPath(spec.kind) ?? '/v1/models'}`;
    let timer: NodeJS.Timeout | null = null;
    let failures = 0;
    let settle!: (v: { code: null; signal: null; reason: string }) => void;
    const exited = new Promise<{ code: null; signal: null; reason: string }>((r) => (settle = r));
    const tick = async () => {
      const r = await probe(url, { timeoutMs: 5000 });
      failures = r.ok ? 0 : failures + 1;
      if (failures >= 3 && this.s.state === 'ready')
        return settle({ code: null, signal: null, reason: `health check failed 3 times: ${r.ok ? '' : r.reason}` });
      timer = setTimeout(() => void tick(), this.pollMs * 4);
      timer.unref();
    };
    timer = setTimeout(() => void tick(), this.pollMs * 4);
    timer.unref();
    return { pid: null, exited, dispose: () => timer && clearTimeout(timer) };
  }

  private async waitReady(spec: TEngineLaunchSpec, running: Running, signal: AbortSignal, t0: number): Promise<void> {
    const deadline = t0 + spec.readyTimeoutSeconds * 1000;
    const base = this.probeUrl(spec);
    const path = readinessPath(spec.kind);
    let exit: { code: number | null; signal: string | null; reason?: string } | null = null;
    void running.exited.then((e) => (exit = e));
    let last = 'no answer yet';
    const stopped = async () => {
      if (signal.aborted) throw new EngineStartError('Cancelled while the engine was starting');
      if (exit) {
        const e = exit as { code: number | null; signal: string | null; reason?: string };
        const tail = await this.logTail();
        throw new EngineStartError(
          `The engine ${e.reason ?? `exited with ${e.signal ? `signal ${e.signal}` : `code ${e.code}`}`} before it was ready${tail ? `:\n${tail}` : ''}`,
        );
      }
      if (Date.now() > deadline)
        throw new EngineStartError(`The engine was not ready within ${spec.readyTimeoutSeconds} s (last answer: ${last})`);
    };
    const pause = () => sleep(this.pollMs, undefined, { signal }).catch(() => undefined);
    const remaining = () => Math.max(1000, Math.min(60_000, deadline - Date.now()));
    for (;;) {
      await stopped();
      // Connection refused, 503 and timeouts all mean "loading" until the deadline (§2, agent rule).
      if (path) {
        const h = await probe(`${base}${path}`, { timeoutMs: 5000, signal });
        if (!h.ok) {
          last = `${path}: ${h.reason}`;
          await pause();
          continue;
        }
      }
      const identity = await readServedIdentity(base, spec.kind);
      if (!identity || identity.modelIds.length === 0) {
        last = '/v1/models lists no model';
        await pause();
        continue;
      }
      const model = identity.modelIds.includes(spec.servedModelName) ? spec.servedModelName : identity.modelIds[0]!;
      // One token against the served name before admitting traffic; for mlx-lm this is the readiness check.
      const c = await probe(`${base}/v1/chat/completions`, {
        method: 'POST',
        body: { model, messages: [{ role: 'user', content: 'Reply with OK.' }], max_tokens: 1, temperature: 0 },
        timeoutMs: remaining(),
        signal,
      });
      if (!c.ok) {
        last = `1-token completion: ${c.reason}`;
        await pause();
        continue;
      }
      this.lastModelIds = identity.modelIds;
      this.lastServedDigest = identity.artifactDigest;
      return;
    }
  }

  private async stopInternal(drainSeconds: number): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const running = this.running;
    const spec = this.s.spec;
    if (!running || !spec) {
      if (this.s.state !== 'stopped' && this.s.state !== 'failed') this.s.state = 'stopped';
      return;
    }
    this.stopping = true;
    try {
      this.s.state = 'draining';
      this.emit();
      if (spec.mode === 'command') {
        running.dispose();
        if (spec.stopArgv)
          await runToEnd(
            this.resolveArgv({ ...spec, argv: spec.stopArgv }, this.s.artifactDir ?? '').argv,
            spec.env,
            (drainSeconds + 60) * 1000,
            this.logFile,
          );
      } else if (running.pid !== null) {
        // mlx-lm drains only on SIGINT (SIGTERM kills it outright); the others take SIGTERM and drain
        // (vLLM up to --shutdown-timeout, SGLang without a limit, llama.cpp not at all).
        signalGroup(running.pid, spec.kind === 'mlx' ? 'SIGINT' : 'SIGTERM');
        const exitedInTime = await Promise.race([
          running.exited.then(() => true),
          sleep(drainSeconds * 1000 + this.killGraceMs).then(() => false),
        ]);
        if (!exitedInTime) {
          this.s.state = 'stopping';
          this.emit();
          this.log.warn({ drainSeconds }, 'the engine did not exit after the drain window; killing its process group');
        }
        await this.killGroup(running);
      }
      this.s.state = 'stopped';
      this.s.pid = null;
      this.running = null;
      this.ready = null;
      this.log.info('engine stopped');
    } finally {
      this.stopping = false;
    }
  }

  /** SIGKILL the whole process group (workers included) and wait for the leader to be gone. */
  private async killGroup(running: Running, spec: TEngineLaunchSpec | null = this.s.spec): Promise<void> {
    if (spec?.mode === 'command') {
      running.dispose();
      if (spec.stopArgv) await runToEnd(spec.stopArgv, spec.env, 60_000, this.logFile).catch(() => undefined);
      return;
    }
    if (running.pid === null) return;
    signalGroup(running.pid, 'SIGKILL');
    await Promise.race([running.exited, sleep(5000)]);
  }

  private async rotateLog(): Promise<void> {
    const size = await stat(this.logFile).then(
      (s) => s.size,
      () => 0,
    );
    if (size > LOG_ROTATE_BYTES) await rename(this.logFile, `${this.logFile}.1`);
  }

  /** The last lines of engine.log: crash signatures (vLLM prints the root cause before the wrapper). */
  async logTail(maxBytes = 3000): Promise<string> {
    try {
      const fh = await open(this.logFile, 'r');
      try {
        const { size } = await fh.stat();
        const start = Math.max(0, size - maxBytes);
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        const text = buf.toString('utf8');
        const lines = text.split('\n');
        if (start > 0) lines.shift();
        return lines
          .filter((l) => !l.startsWith('--- '))
          .join('\n')
          .trim();
      } finally {
        await fh.close();
      }
    } catch {
      return '';
    }
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid from the state file is ours only if it runs the command we started (pids are reused). */
async function isSameProcess(pid: number, _spec: TEngineLaunchSpec, expected: { argv: string[] }): Promise<boolean> {
  if (!pidAlive(pid)) return false;
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    return expected.argv.slice(1).every((a) => cmdline.includes(a));
  } catch {
    // No /proc (not Linux): trust the pid.
    return true;
  }
}

/** An engine started by a previous agent process: not our child, so its exit is noticed by polling. */
function adoptPid(pid: number): Running {
  let timer: NodeJS.Timeout | null = null;
  const exited = new Promise<{ code: null; signal: null; reason: string }>((resolve) => {
    const tick = () => {
      if (!pidAlive(pid)) return resolve({ code: null, signal: null, reason: 'exited (adopted process; exit code unknown)' });
      timer = setTimeout(tick, 500);
      timer.unref();
    };
    tick();
  });
  return { pid, exited, dispose: () => timer && clearTimeout(timer) };
}

async function appendLine(file: string, line: string): Promise<void> {
  const fh = await open(file, 'a');
  try {
    await fh.write(`${line}\n`);
  } finally {
    await fh.close();
  }
}

/** Runs a start/stop command to completion; its output goes to engine.log. Non-zero exit throws with the output. */
function runToEnd(argv: string[], env: Record<string, string>, timeoutMs: number, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        void appendLine(logFile, `--- ${new Date().toISOString()} ran: ${argv.join(' ')}${out ? `\n${out}` : ''}`).catch(() => undefined);
        if (err) reject(new EngineStartError(`${argv.join(' ')} failed: ${err.message}${out ? `\n${out.slice(-2000)}` : ''}`));
        else resolve();
      },
    );
  });
}
