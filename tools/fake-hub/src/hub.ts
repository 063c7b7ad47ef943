import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { demoChange } from './demo-changes';
import { demoRepos } from './demo-repos';
import { FaultState } from './faults';
import { DigestCache, type FileSource } from './file-source';
import { fromJournalFiles, Journal, toJournalFiles } from './journal';
import { RepoState, type CommitChange } from './repo-state';
import {
  ZCommitInput,
  ZRepoSeed,
  type TCommitInput,
  type TFaults,
  type TFileContent,
  type TPublishDemoKind,
  type TRepoSeed,
} from './schemas';
import { handleAdmin, type AdminApi } from './server/admin-routes';
import { handleApi } from './server/api-routes';
import type { HubContext, RequestInfo } from './server/context';
import { handleCdn, handleResolve } from './server/file-routes';
import { bearerToken, HttpError, sendError, type RequestLogEntry } from './server/http-utils';
import { deliverWebhook, webhookPayload, type WebhookConfig, type WebhookDelivery } from './webhook';

export interface FakeHubOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** Where published commits (journal) and synthetic-file digests are kept across restarts. */
  dataDir?: string;
  /** Repositories to serve; defaults to demoRepos(). */
  repos?: TRepoSeed[];
  webhook?: WebhookConfig;
  /** Entries per /tree page before a Link: rel="next" (the Hub uses 1000). */
  treePageSize?: number;
  /** Called for journal or webhook problems; defaults to console.warn. */
  onWarning?: (message: string) => void;
  /** Oldest request-log entries are dropped beyond this (default 10,000), so a long-running demo stays small. */
  requestLogLimit?: number;
}

export interface RepoSummary {
  id: string;
  private: boolean;
  gated: false | 'auto' | 'manual';
  defaultBranch: string;
  headSha: string;
  branches: Record<string, string>;
  tags: Record<string, string>;
  commits: Array<{ id: string; title: string; date: string }>;
  files: Array<{ path: string; size: number; lfs: boolean; sha256: string; oid: string }>;
}

export interface FakeHub {
  /** Base URL to pass as hubUrl / HF_ENDPOINT, without a trailing slash. */
  url: string;
  close(): Promise<void>;
  publish(repoId: string, change: TCommitInput): Promise<{ sha: string }>;
  publishDemo(repoId: string, kind: TPublishDemoKind, branch?: string): Promise<{ sha: string; title: string; paths: string[] }>;
  setFaults(faults: TFaults): void;
  clearFaults(): void;
  faults(): ReturnType<FaultState['snapshot']>;
  /** Every non-control request, in arrival order (mutated in place; see clearRequestLog). */
  requestLog: RequestLogEntry[];
  clearRequestLog(): void;
  webhookLog: WebhookDelivery[];
  repos(): RepoSummary[];
}

function toSource(content: Exclude<TFileContent, null>): FileSource {
  if (typeof content === 'string') return { kind: 'inline', bytes: Buffer.from(content, 'utf8') };
  if (content instanceof Uint8Array) return { kind: 'inline', bytes: Buffer.from(content.buffer, content.byteOffset, content.byteLength) };
  if ('base64' in content) return { kind: 'inline', bytes: Buffer.from(content.base64, 'base64') };
  return { kind: 'synthetic', sizeBytes: content.sizeBytes, seed: content.seed };
}

export function toChange(input: TCommitInput): CommitChange {
  const c = ZCommitInput.parse(input);
  return {
    title: c.title,
    message: c.message,
    date: c.date,
    author: c.author,
    branch: c.branch,
    tags: c.tags,
    files: Object.fromEntries(Object.entries(c.files).map(([p, v]) => [p, v === null ? null : toSource(v)])),
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, `Malformed URL segment: ${s}`);
  }
}

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const warn = options.onWarning ?? ((m: string) => console.warn(`[fake-hub] ${m}`));
  const digests = new DigestCache(options.dataDir);
  const repos = new Map<string, RepoState>();
  for (const raw of options.repos ?? demoRepos()) {
    const seed = ZRepoSeed.parse(raw);
    if (repos.has(seed.id)) throw new Error(`Duplicate repo seed ${seed.id}`);
    const repo = new RepoState(seed.id, seed.private, seed.gated, new Set(seed.tokens));
    for (const c of seed.commits) await repo.commit(toChange(c), digests);
    repos.set(seed.id, repo);
  }
  const journal = options.dataDir ? new Journal(options.dataDir) : null;
  for (const entry of (await journal?.read()) ?? []) {
    const repo = repos.get(entry.repoId);
    if (!repo) {
      warn(`journal: skipping a commit to ${entry.repoId}, which is not among the seeded repos`);
      continue;
    }
    await repo.commit({ ...entry, files: fromJournalFiles(entry.files) }, digests);
  }

  const faults = new FaultState();
  const ctx: HubContext = { repos, faults, cdnSecret: randomBytes(32), treePageSize: options.treePageSize ?? 1000 };
  const requestLog: RequestLogEntry[] = [];
  const logLimit = options.requestLogLimit ?? 10_000;
  const webhookLog: WebhookDelivery[] = [];
  let origin = '';
  // Commits to one hub are serialised, so concurrent publishes each get their own parent.
  let commitQueue: Promise<unknown> = Promise.resolve();

  const applyCommit = (repoId: string, change: CommitChange): Promise<{ sha: string }> => {
    const run = async () => {
      const repo = repos.get(repoId);
      if (!repo) throw new HttpError(404, `Repository ${repoId} does not exist on this fake hub`, 'RepoNotFound');
      let record;
      try {
        record = await repo.commit(change, digests);
      } catch (err) {
        throw err instanceof HttpError ? err : new HttpError(400, err instanceof Error ? err.message : String(err));
      }
      const branch = change.branch ?? repo.defaultBranch;
      await journal?.append({
        repoId,
        title: record.title,
        message: record.message,
        branch,
        date: record.date,
        author: record.author,
        tags: change.tags ?? [],
        files: toJournalFiles(change.files),
      });
      if (options.webhook) {
        const delivery = await deliverWebhook(options.webhook, webhookPayload(repo, record, branch, origin));
        webhookLog.push(delivery);
        if (delivery.error || (delivery.status ?? 0) >= 400)
          warn(`webhook to ${options.webhook.url}: ${delivery.error ?? `HTTP ${delivery.status}`}`);
      }
      return { sha: record.id };
    };
    const result = commitQueue.then(run, run);
    commitQueue = result.catch(() => undefined);
    return result;
  };

  const publishDemo = async (repoId: string, kind: TPublishDemoKind, branch?: string) => {
    const repo = repos.get(repoId);
    if (!repo) throw new HttpError(404, `Repository ${repoId} does not exist on this fake hub`, 'RepoNotFound');
    const change = demoChange(repo, kind, branch ?? repo.defaultBranch);
    const { sha } = await applyCommit(repoId, { ...change, branch });
    return { sha, title: change.title, paths: Object.keys(change.files) };
  };

  const summaries = (): RepoSummary[] =>
    [...repos.values()].map((r) => {
      const head = r.resolve(r.defaultBranch)!;
      return {
        id: r.id,
        private: r.isPrivate,
        gated: r.gated,
        defaultBranch: r.defaultBranch,
        headSha: head.id,
        branches: Object.fromEntries(r.branches),
        tags: Object.fromEntries(r.tags),
        commits: r.history(head.id).map((c) => ({ id: c.id, title: c.title, date: c.date })),
        files: [...head.files.values()].map((f) => ({ path: f.path, size: f.size, lfs: f.lfs, sha256: f.sha256, oid: f.oid })),
      };
    });

  const admin: AdminApi = {
    repos: summaries,
    publishHttp: (repoId, body) => applyCommit(repoId, toChange(body)),
    publishDemo,
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faultSnapshot: () => faults.snapshot(),
    requestLog: () => requestLog,
    clearRequestLog: () => void (requestLog.length = 0),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake-hub.invalid');
    const info: RequestInfo = {
      req,
      url,
      segments: url.pathname.split('/').slice(1).map(safeDecode),
      origin: `http://${req.headers.host ?? new URL(origin).host}`,
      entry: {
        at: Date.now(),
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        status: 0,
        range: req.headers.range ?? null,
        ifNoneMatch: (req.headers['if-none-match'] as string | undefined) ?? null,
        authorized: bearerToken(req) !== null,
        bytesSent: 0,
        aborted: false,
      },
    };
    const [first] = info.segments;
    if (first === '_fake') return handleAdmin(admin, info, res);

    requestLog.push(info.entry);
    if (requestLog.length > logLimit) requestLog.splice(0, requestLog.length - logLimit);
    const settle = () => {
      if (res.headersSent) info.entry.status = res.statusCode;
    };
    res.on('finish', settle);
    res.on('close', () => {
      settle();
      if (!res.writableFinished) info.entry.aborted = true;
    });
    const isApi = first === 'api';
    const filePath =
      info.segments[2] === 'resolve' || info.segments[2] === 'raw'
        ? info.segments.slice(4).join('/')
        : first === '_cdn'
          ? info.segments.slice(5).join('/')
          : undefined;
    const target = { pathname: url.pathname, filePath: filePath || undefined, isApi };

    const delay = faults.latencyMs(target);
    if (delay > 0) await sleep(delay);
    const status = faults.takeStatus5xx(target);
    if (status !== null) throw new HttpError(status, 'Service temporarily unavailable (injected fault)');
    const retryAfter = faults.takeRateLimit(target);
    if (retryAfter !== null) {
      throw new HttpError(429, 'You have exceeded our rate limit (injected fault). Retry later.', undefined, {
        'Retry-After': String(retryAfter),
      });
    }

    if (isApi && info.segments[1] === 'models') return handleApi(ctx, info, res);
    if (first === '_cdn' && info.segments[1] === 'lfs') return handleCdn(ctx, info, res);
    if (info.segments.length >= 5 && (info.segments[2] === 'resolve' || info.segments[2] === 'raw')) return handleResolve(ctx, info, res);
    throw new HttpError(404, `No route for ${req.method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const httpErr = err instanceof HttpError ? err : new HttpError(500, err instanceof Error ? err.message : String(err));
      if (!(err instanceof HttpError)) warn(`internal error on ${req.method} ${req.url}: ${httpErr.message}`);
      if (res.headersSent) res.destroy();
      else sendError(res, httpErr);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address}:${address.port}`;

  return {
    url: origin,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    publish: (repoId, change) => applyCommit(repoId, toChange(change)),
    publishDemo,
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.snapshot(),
    requestLog,
    clearRequestLog: () => void (requestLog.length = 0),
    webhookLog,
    repos: summaries,
  };
}
