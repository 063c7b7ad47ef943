import {
  AGENT_API_PATHS,
  agentAuthorizationHeader,
  ZAgentError,
  ZEnrollResponse,
  ZTelemetryResponse,
  type TEnrollRequest,
  type TEnrollResponse,
  type TTelemetryBatch,
  type TTelemetryResponse,
  ZNodeStateResponse,
  type TNodeStateReport,
  type TNodeStateResponse,
  ZCommandPollResponse,
  ZCommandReportResponse,
  type TCommandPollResponse,
  type TCommandReport,
  type TCommandReportResponse,
} from '@fleetplane/contracts';
import { AGENT_VERSION } from '../version';
import { HttpError, sendHttp, type HttpResponse } from './http';
import { openHttpStream, type StreamResponse } from './http-stream';

export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Answers that mean "the server (or what sits in front of it) is down or restarting", not "busy": a
 * connection refused or reset, a 500 (its database is away), 502/503/504 from a proxy. The delivery loop
 * retries these within seconds (with jitter) so it resumes as soon as the server is back.
 */
const OUTAGE_STATUSES = new Set([500, 502, 503, 504]);
const OUTAGE_NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'socket hang up']);

/**
 * The local clock minus the server's from one response: the server stamped `Date` (whole seconds,
 * truncated) while the request was in flight, so compare it, plus half a second, with the midpoint.
 * Null without a readable Date header.
 */
export function clockOffsetFromDate(dateHeader: string | null, sentAtMs: number, receivedAtMs: number): number | null {
  if (!dateHeader) return null;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return null;
  return Math.round((sentAtMs + receivedAtMs) / 2 - (server + 500));
}
/**
 * The outcome of one request, classified for the delivery loop:
 * - `retry`: network error, timeout, 5xx, 429 or an unreadable 2xx: try the same batch again later;
 * - `unauthorized`: 401/403, the credential is unknown or revoked;
 * - `rejected`: any other 4xx: this payload will never be accepted.
 */
export type ApiResult<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'retry'; status: number | null; message: string; retryAfterMs: number | null; outage: boolean }
  | { kind: 'unauthorized'; status: number; message: string }
  | { kind: 'rejected'; status: number; message: string; code: string | null; issues: Array<{ path: string; message: string }> };

export interface AgentApiClientOptions {
  server: string;
  credential?: string;
  timeoutMs?: number;
}

function retryAfter(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.min(date - Date.now(), 3_600_000));
}

export class AgentApiClient {
  private readonly server: string;
  private readonly timeoutMs: number;
  private lastClockOffsetMs: number | null = null;

  /** This host's clock minus the server's in ms, from the newest response with a Date header; null before one. */
  clockOffsetMs(): number | null {
    return this.lastClockOffsetMs;
  }

  constructor(private readonly options: AgentApiClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  enroll(request: TEnrollRequest): Promise<ApiResult<TEnrollResponse>> {
    return this.post(AGENT_API_PATHS.enroll, request, ZEnrollResponse, false);
  }

  /** PUT the node's engine and model cache state (latest observedAt wins on the server). */
  putNodeState(report: TNodeStateReport, signal?: AbortSignal): Promise<ApiResult<TNodeStateResponse>> {
    return this.post(AGENT_API_PATHS.nodeState, report, ZNodeStateResponse, true, signal, 'PUT');
  }

  /**
   * GET the node's open commands, holding up to `waitSeconds` (long poll) for a change. The request timeout
   * covers the wait: a long poll is not a server that stopped answering.
   */
  pollCommands(waitSeconds: number, signal?: AbortSignal): Promise<ApiResult<TCommandPollResponse>> {
    const wait = Math.max(0, Math.floor(waitSeconds));
    return this.send(
      `${AGENT_API_PATHS.commands}?waitSeconds=${wait}`,
      undefined,
      ZCommandPollResponse,
      true,
      signal,
      'GET',
      this.timeoutMs + wait * 1000,
    );
  }

  /** POST one command's progress or outcome; the answer is the command's state after it (cancelled/expired = stop). */
  reportCommand(commandId: string, report: TCommandReport, signal?: AbortSignal): Promise<ApiResult<TCommandReportResponse>> {
    return this.post(AGENT_API_PATHS.commandReport(commandId), report, ZCommandReportResponse, true, signal);
  }

  postTelemetry(batch: TTelemetryBatch, signal?: AbortSignal): Promise<ApiResult<TTelemetryResponse>> {
    return this.post(AGENT_API_PATHS.telemetry, batch, ZTelemetryResponse, true, signal);
  }

  /**
   * GET one artifact file as a stream, from byte `offset` on (Range with If-Range = the file's sha256, so a
   * changed file comes back whole with 200 instead of a mismatched tail). The caller reads the status.
   */
  openArtifactFile(
    artifactId: string,
    relativePath: string,
    opts: { offset: number; etag: string; signal?: AbortSignal; idleTimeoutMs?: number },
  ): Promise<StreamResponse> {
    if (!this.options.credential) throw new Error('AgentApiClient: a credential is required for artifact files');
    const headers: Record<string, string> = {
      authorization: agentAuthorizationHeader(this.options.credential),
      'user-agent': `fleetplane-agent/${AGENT_VERSION}`,
      accept: 'application/octet-stream',
    };
    if (opts.offset > 0) {
      headers.range = `bytes=${opts.offset}-`;
      headers['if-range'] = opts.etag;
    }
    return openHttpStream({
      url: `${this.server}${AGENT_API_PATHS.artifactFile(artifactId, relativePath)}`,
      headers,
      headersTimeoutMs: this.timeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      signal: opts.signal,
    });
  }

  private post<T>(
    path: string,
    body: unknown,
    schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } },
    auth: boolean,
    signal?: AbortSignal,
    method: 'POST' | 'PUT' = 'POST',
  ): Promise<ApiResult<T>> {
    return this.send(path, body, schema, auth, signal, method, this.timeoutMs);
  }

  private async send<T>(
    path: string,
    body: unknown,
    schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } },
    auth: boolean,
    signal: AbortSignal | undefined,
    method: 'GET' | 'POST' | 'PUT',
    timeoutMs: number,
  ): Promise<ApiResult<T>> {
    const url = `${this.server}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `fleetplane-agent/${AGENT_VERSION}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      if (!this.options.credential) throw new Error('AgentApiClient: a credential is required for telemetry');
      headers.authorization = agentAuthorizationHeader(this.options.credential);
    }
    let response: HttpResponse;
    const sentAtMs = Date.now();
    try {
      // Redirects are not followed: a POST turned into a GET would look like success to nobody.
      response = await sendHttp({
        method,
        url,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
        signal,
        maxResponseBytes: 1024 * 1024,
      });
    } catch (err) {
      const outage = err instanceof HttpError && err.kind === 'network' && OUTAGE_NETWORK_ERRORS.has(err.message);
      return { kind: 'retry', status: null, message: `cannot reach ${this.server}: ${(err as Error).message}`, retryAfterMs: null, outage };
    }
    const dateHeader = response.headers.date;
    this.lastClockOffsetMs =
      clockOffsetFromDate(typeof dateHeader === 'string' ? dateHeader : null, sentAtMs, Date.now()) ?? this.lastClockOffsetMs;
    const text = response.text;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const status = response.status;
    const header = (name: string) => {
      const value = response.headers[name];
      return (Array.isArray(value) ? value[0] : value) ?? null;
    };
    if (status >= 300 && status < 400) {
      return {
        kind: 'retry',
        status,
        message: `${url} redirects to ${header('location') ?? '(no location)'}; set --server to the final URL`,
        retryAfterMs: null,
        outage: false,
      };
    }
    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return { kind: 'ok', status, body: parsed.data };
      return {
        kind: 'retry',
        status,
        message: `${url} answered ${status} with a body that is not a v1 response (is --server the Fleetplane URL?)`,
        retryAfterMs: null,
        outage: false,
      };
    }
    const error = ZAgentError.safeParse(json);
    const message = error.success
      ? error.data.error.message
      : `HTTP ${status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
    if (status === 429 || status >= 500)
      return { kind: 'retry', status, message, retryAfterMs: retryAfter(header('retry-after')), outage: OUTAGE_STATUSES.has(status) };
    // A v1 `forbidden` names something inside this batch (a GPU registered to another node): the
    // credential is fine and the batch will never be accepted, so it is refused like a bad payload.
    // A bare 403 (a proxy, say) or a 401 is about the credential and blocks the whole queue instead.
    if (status === 401 || (status === 403 && !(error.success && error.data.error.code === 'forbidden')))
      return { kind: 'unauthorized', status, message };
    return {
      kind: 'rejected',
      status,
      message,
      code: error.success ? error.data.error.code : null,
      issues: error.success ? (error.data.error.issues ?? []) : [],
    };
  }
}
