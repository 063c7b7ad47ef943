import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentApiClient, clockOffsetFromDate } from './client';
import { closedPort, startFakeControlPlane, type FakeControlPlane } from '../testing/fake-control-plane';

let cp: FakeControlPlane;
let odd: Server;
let oddUrl: string;
beforeAll(async () => {
  cp = await startFakeControlPlane({ reportIntervalSeconds: 15 });
  // A server that is not Fleetplane: HTML 200s, redirects, plain-text 404s.
  odd = createServer((req, res) => {
    if (req.url?.endsWith('/enroll')) {
      res.writeHead(302, { location: 'https://elsewhere.example.com/' });
      res.end();
    } else if (req.url?.includes('teapot')) {
      res.writeHead(418, { 'content-type': 'text/plain' });
      res.end("I'm a teapot");
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    }
  });
  await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
  oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await cp.close();
  await new Promise((r) => odd.close(r));
});

const request = (joinToken: string) => ({
  joinToken,
  hostname: 'gpu-node-01',
  agentVersion: '0.1.0',
  driverVersion: '550.54.15',
  cudaVersion: '12.4',
});

describe('AgentApiClient.enroll', () => {
  it('exchanges a valid token once', async () => {
    cp.tokens.set('fpj_valid_token_1', 'valid');
    const client = new AgentApiClient({ server: `${cp.url}/` });
    const first = await client.enroll(request('fpj_valid_token_1'));
    expect(first).toMatchObject({ kind: 'ok', status: 201, body: { clusterId: 'cluster-1', reportIntervalSeconds: 15 } });
    expect(await client.enroll(request('fpj_valid_token_1'))).toMatchObject({
      kind: 'rejected',
      status: 409,
      code: 'conflict',
      message: 'This join token has already been used',
    });
  });

  it('classifies expired, revoked and invalid requests', async () => {
    cp.tokens.set('fpj_expired_tok', 'expired');
    cp.tokens.set('fpj_revoked_tok', 'revoked');
    const client = new AgentApiClient({ server: cp.url });
    expect(await client.enroll(request('fpj_expired_tok'))).toMatchObject({ kind: 'rejected', status: 410, code: 'expired' });
    expect(await client.enroll(request('fpj_revoked_tok'))).toMatchObject({ kind: 'unauthorized', status: 401 });
    const invalid = await client.enroll({ ...request('fpj_whatever1'), hostname: 'not a host!' });
    expect(invalid).toMatchObject({ kind: 'rejected', status: 400, code: 'invalid_payload' });
    expect(invalid.kind === 'rejected' && invalid.issues[0]?.path).toBe('hostname');
  });

  it('does not follow redirects and refuses non-v1 bodies', async () => {
    const client = new AgentApiClient({ server: oddUrl });
    expect(await client.enroll(request('fpj_whatever1'))).toMatchObject({
      kind: 'retry',
      status: 302,
      message: expect.stringContaining('redirects to https://elsewhere.example.com/'),
    });
    const telemetry = new AgentApiClient({ server: oddUrl, credential: 'fpa_0123456789abcdef' });
    const batch = {
      batchId: crypto.randomUUID(),
      sentAt: new Date().toISOString(),
      host: { hostname: 'h', agentVersion: '0.1.0', driverVersion: null, cudaVersion: null },
      gpuSamples: [],
      xidEvents: [],
      engineSamples: [],
      droppedSamples: 0,
    };
    expect(await telemetry.postTelemetry(batch)).toMatchObject({
      kind: 'retry',
      status: 200,
      message: expect.stringContaining('not a v1 response'),
    });
    const teapot = new AgentApiClient({ server: `${oddUrl}/teapot`, credential: 'fpa_0123456789abcdef' });
    expect(await teapot.postTelemetry(batch)).toMatchObject({
      kind: 'rejected',
      status: 418,
      code: null,
      message: "HTTP 418: I'm a teapot",
    });
  });

  it('dead-letters a batch the server forbids, but treats a bare 403 as a credential problem', async () => {
    const credential = cp.issueCredential('node-403');
    const client = new AgentApiClient({ server: cp.url, credential });
    const batch = {
      batchId: crypto.randomUUID(),
      sentAt: new Date().toISOString(),
      host: { hostname: 'h', agentVersion: '0.1.0', driverVersion: null, cudaVersion: null },
      gpuSamples: [],
      xidEvents: [],
      engineSamples: [],
      droppedSamples: 0,
    };
    cp.rejectWhen(() => true, 'forbidden');
    try {
      expect(await client.postTelemetry(batch)).toMatchObject({ kind: 'rejected', status: 403, code: 'forbidden' });
    } finally {
      cp.rejectWhen(null);
    }
    const proxy = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('<h1>Forbidden by proxy policy</h1>');
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const viaProxy = new AgentApiClient({ server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, credential });
      expect(await viaProxy.postTelemetry(batch)).toMatchObject({
        kind: 'unauthorized',
        status: 403,
        message: expect.stringContaining('Forbidden by proxy policy'),
      });
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('times out', async () => {
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const client = new AgentApiClient({ server: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`, timeoutMs: 200 });
      expect(await client.enroll(request('fpj_whatever1'))).toMatchObject({
        kind: 'retry',
        status: null,
        message: expect.stringContaining('no answer within 0.2 s'),
      });
    } finally {
      hang.closeAllConnections();
      await new Promise((r) => hang.close(r));
    }
  });
});

describe('clock offset against the server', () => {
  it('compares the Date header (whole seconds, plus half a second) with the middle of the request', () => {
    const server = Date.parse('Wed, 02 Dec 2026 15:44:11 GMT');
    expect(clockOffsetFromDate('Wed, 02 Dec 2026 15:44:11 GMT', server + 400, server + 600)).toBe(0);
    // This host 10 minutes ahead.
    expect(clockOffsetFromDate('Wed, 02 Dec 2026 15:44:11 GMT', server + 600_400, server + 600_600)).toBe(600_000);
    expect(clockOffsetFromDate(null, 0, 0)).toBeNull();
    expect(clockOffsetFromDate('not a date', 0, 0)).toBeNull();
  });

  it('measures it from every response, refused ones included', async () => {
    const client = new AgentApiClient({ server: cp.url });
    expect(client.clockOffsetMs()).toBeNull();
    await client.enroll(request('fpj_never_issued'));
    // Same machine, same clock: within the Date header's one-second resolution.
    expect(Math.abs(client.clockOffsetMs()!)).toBeLessThanOrEqual(1000);
  });

  it('marks a down or restarting server as an outage, a busy one not', async () => {
    const credential = cp.issueCredential();
    const client = new AgentApiClient({ server: cp.url, credential });
    const batch = {
      batchId: crypto.randomUUID(),
      sentAt: new Date().toISOString(),
      host: { hostname: 'h', agentVersion: '0.1.0', driverVersion: null, cudaVersion: null },
      gpuSamples: [],
      xidEvents: [],
      engineSamples: [],
      droppedSamples: 0,
    };
    for (const [status, outage] of [
      [500, true],
      [502, true],
      [503, true],
      [504, true],
      [429, false],
      [507, false],
    ] as const) {
      cp.failNext(1, status);
      expect(await client.postTelemetry({ ...batch, batchId: crypto.randomUUID() }), String(status)).toMatchObject({
        kind: 'retry',
        status,
        outage,
      });
    }
    const port = await closedPort();
    expect(await new AgentApiClient({ server: `http://127.0.0.1:${port}`, credential }).postTelemetry(batch)).toMatchObject({
      kind: 'retry',
      status: null,
      outage: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });
});
