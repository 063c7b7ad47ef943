// A small in-process implementation of the v1 agent API for tests: zod-validated, records what it stores,
// and can be told to fail, refuse, revoke or go away.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AGENT_API_PATHS,
  AGENT_ERROR_HTTP_STATUS,
  agentErrorBody,
  MAX_TELEMETRY_BODY_BYTES,
  parseAgentBearer,
  toAgentErrorIssues,
  ZEnrollRequest,
  ZTelemetryBatch,
  type TAgentErrorCode,
  type TEnrollRequest,
  type TEnrollResponse,
  type TTelemetryBatch,
} from '@fleetplane/contracts';

export type JoinTokenState = 'valid' | 'used' | 'expired' | 'revoked';

export interface FakeControlPlane {
  readonly url: string;
  readonly port: number;
  /** Accepted batches in arrival order (duplicates excluded). */
  readonly batches: TTelemetryBatch[];
  readonly enrollments: TEnrollRequest[];
  /** Every telemetry request, including refused ones. */
  readonly telemetryRequests: Array<{ status: number; batchId: string | null }>;
  readonly tokens: Map<string, JoinTokenState>;
  readonly credentials: Map<string, { nodeId: string; revoked: boolean }>;
  /** Answer the next n telemetry requests with this status (5xx/429: retryable). */
  failNext(n: number, status: number): void;
  /** Refuse matching batches: 400 invalid_payload, or 403 forbidden as for a GPU of another node. */
  rejectWhen(predicate: ((batch: TTelemetryBatch) => boolean) | null, code?: 'invalid_payload' | 'forbidden'): void;
  /** Issue a credential directly, as if the node had enrolled. */
  issueCredential(nodeId?: string): string;
  /** Stop listening (connections refused) and start again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, code: TAgentErrorCode, message: string, issues?: Array<{ path: string; message: string }>): number {
  const status = AGENT_ERROR_HTTP_STATUS[code];
  send(res, status, agentErrorBody(code, message, issues), code === 'rate_limited' ? { 'retry-after': '0' } : {});
  return status;
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TELEMETRY_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeControlPlane(options: { reportIntervalSeconds?: number } = {}): Promise<FakeControlPlane> {
  const batches: TTelemetryBatch[] = [];
  const seen = new Set<string>();
  const enrollments: TEnrollRequest[] = [];
  const telemetryRequests: Array<{ status: number; batchId: string | null }> = [];
  const tokens = new Map<string, JoinTokenState>();
  const credentials = new Map<string, { nodeId: string; revoked: boolean }>();
  let failures: { n: number; status: number } = { n: 0, status: 503 };
  let reject: ((batch: TTelemetryBatch) => boolean) | null = null;
  let rejectCode: 'invalid_payload' | 'forbidden' = 'invalid_payload';
  let nodeSeq = 0;

  const issueCredential = (nodeId = `node-${++nodeSeq}`) => {
    const credential = `fpa_${randomBytes(18).toString('hex')}`;
    credentials.set(credential, { nodeId, revoked: false });
    return credential;
  };

  const handleEnroll = async (req: IncomingMessage, res: ServerResponse) => {
    const parsed = ZEnrollRequest.safeParse(safeJson(await readBody(req)));
    if (!parsed.success) return fail(res, 'invalid_payload', 'Enrollment request is invalid', toAgentErrorIssues(parsed.error));
    const state = tokens.get(parsed.data.joinToken);
    if (state === undefined || state === 'revoked') return fail(res, 'unauthorized', 'Unknown or revoked join token');
    if (state === 'used') return fail(res, 'conflict', 'This join token has already been used');
    if (state === 'expired') return fail(res, 'expired', 'This join token expired');
    tokens.set(parsed.data.joinToken, 'used');
    enrollments.push(parsed.data);
    const body: TEnrollResponse = {
      nodeId: `node-${++nodeSeq}`,
      clusterId: 'cluster-1',
      credential: '',
      reportIntervalSeconds: options.reportIntervalSeconds ?? 10,
    };
    body.credential = issueCredential(body.nodeId);
    send(res, 201, body);
    return 201;
  };

  const handleTelemetry = async (req: IncomingMessage, res: ServerResponse): Promise<{ status: number; batchId: string | null }> => {
    const credential = credentials.get(parseAgentBearer(req.headers.authorization) ?? '');
    const text = await readBody(req);
    if (!credential || credential.revoked)
      return { status: fail(res, 'unauthorized', 'Unknown or revoked node credential'), batchId: null };
    if (text === null) return { status: fail(res, 'payload_too_large', 'Batch is larger than the limit'), batchId: null };
    if (failures.n > 0) {
      failures.n--;
      const code: TAgentErrorCode = failures.status === 429 ? 'rate_limited' : 'internal';
      res.writeHead(failures.status, { 'content-type': 'application/json', ...(code === 'rate_limited' ? { 'retry-after': '0' } : {}) });
      res.end(JSON.stringify(agentErrorBody(code, 'Simulated failure')));
      return { status: failures.status, batchId: null };
    }
    const parsed = ZTelemetryBatch.safeParse(safeJson(text));
    if (!parsed.success)
      return { status: fail(res, 'invalid_payload', 'Telemetry batch is invalid', toAgentErrorIssues(parsed.error)), batchId: null };
    const batch = parsed.data;
    if (reject?.(batch))
      return {
        status: fail(res, rejectCode, `Batch ${batch.batchId} refused by test rule`, [{ path: 'gpuSamples', message: 'refused' }]),
        batchId: batch.batchId,
      };
    const duplicate = seen.has(batch.batchId);
    if (!duplicate) {
      seen.add(batch.batchId);
      batches.push(batch);
    }
    const stored = duplicate
      ? { gpuSamples: 0, xidEvents: 0, engineSamples: 0 }
      : { gpuSamples: batch.gpuSamples.length, xidEvents: batch.xidEvents.length, engineSamples: batch.engineSamples.length };
    send(res, 200, { accepted: true, duplicate, stored });
    return { status: 200, batchId: batch.batchId };
  };

  const server: Server = createServer((req, res) => {
    const route = req.method === 'POST' ? req.url : null;
    const done = (p: Promise<unknown>) =>
      p.catch((err: unknown) => {
        if (!res.headersSent) fail(res, 'internal', (err as Error).message);
      });
    if (route === AGENT_API_PATHS.enroll) done(handleEnroll(req, res));
    else if (route === AGENT_API_PATHS.telemetry) done(handleTelemetry(req, res).then((r) => telemetryRequests.push(r)));
    else send(res, 404, { error: { code: 'invalid_payload', message: 'Not found' } });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let listening = true;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    batches,
    enrollments,
    telemetryRequests,
    tokens,
    credentials,
    failNext: (n, status) => {
      failures = { n, status };
    },
    rejectWhen: (predicate, code = 'invalid_payload') => {
      reject = predicate;
      rejectCode = code;
    },
    issueCredential,
    stop: async () => {
      if (!listening) return;
      listening = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    start: async () => {
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = true;
    },
    close: async () => {
      if (!listening) return;
      listening = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function safeJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A 127.0.0.1 port nothing listens on (fetch refuses "bad ports" such as 1, so pick a real free one). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
