import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ZFaults, ZHttpCommitInput, ZPublishDemoInput } from '../schemas';
import type { RequestInfo } from './context';
import { HttpError, readBody, sendJson } from './http-utils';

export interface AdminApi {
  repos(): unknown;
  publishHttp(repoId: string, body: z.output<typeof ZHttpCommitInput>): Promise<{ sha: string }>;
  publishDemo(
    repoId: string,
    kind: z.output<typeof ZPublishDemoInput>['kind'],
    branch?: string,
  ): Promise<{ sha: string; title: string; paths: string[] }>;
  setFaults(f: z.input<typeof ZFaults>): void;
  clearFaults(): void;
  faultSnapshot(): unknown;
  requestLog(): unknown;
  clearRequestLog(): void;
}

async function jsonBody<T extends z.ZodType>(info: RequestInfo, schema: T): Promise<z.output<T>> {
  const raw = await readBody(info.req);
  let value: unknown;
  try {
    value = raw.trim() ? JSON.parse(raw) : {};
  } catch {
    throw new HttpError(400, 'Body must be valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(400, `Invalid body: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** /_fake/... control endpoints for tests, the demo and the CLI. Never subject to faults, never logged. */
export async function handleAdmin(api: AdminApi, info: RequestInfo, res: ServerResponse): Promise<void> {
  const method = info.req.method ?? 'GET';
  const [, what, owner, name, action] = info.segments;
  if (what === 'health' && method === 'GET') return sendJson(res, 200, { ok: true });
  if (what === 'repos' && !owner && method === 'GET') return sendJson(res, 200, api.repos());
  if (what === 'repos' && owner && name && method === 'POST') {
    const repoId = `${owner}/${name}`;
    if (action === 'commits') return sendJson(res, 201, await api.publishHttp(repoId, await jsonBody(info, ZHttpCommitInput)));
    if (action === 'publish-demo') {
      const body = await jsonBody(info, ZPublishDemoInput);
      return sendJson(res, 201, await api.publishDemo(repoId, body.kind, body.branch));
    }
  }
  if (what === 'faults') {
    if (method === 'GET') return sendJson(res, 200, api.faultSnapshot());
    if (method === 'POST' || method === 'PUT') {
      api.setFaults(await jsonBody(info, ZFaults));
      return sendJson(res, 200, api.faultSnapshot());
    }
    if (method === 'DELETE') {
      api.clearFaults();
      return sendJson(res, 200, api.faultSnapshot());
    }
  }
  if (what === 'requests') {
    if (method === 'GET') return sendJson(res, 200, api.requestLog());
    if (method === 'DELETE') {
      api.clearRequestLog();
      return sendJson(res, 200, { ok: true });
    }
  }
  throw new HttpError(404, `Unknown control endpoint ${method} ${info.url.pathname}`);
}
