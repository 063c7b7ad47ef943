// The runner and the reference endpoint run in separate processes; their timestamps are compared on
// the machine-wide monotonic clock. These tests fail if either side used a per-process origin.
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicy } from '@fleetplane/net';
import { spawnReferenceEndpoint, type TRefProcess } from '../testing/reference-endpoint-process';
import { chatCompletion, createEndpointAgent } from './chat-client';
import { clockOffsetMs, toMachineClock } from './clock';
import { runLoadLevel } from '../checks/load';

// The endpoints under test listen on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };

const MODEL = 'deepseek-ai/DeepSeek-V4-Flash';
let ref: TRefProcess;

beforeAll(async () => {
  ref = await spawnReferenceEndpoint({ model: MODEL, maxModelLen: 16384, ttftMs: 40, prefillMsPer1k: 0, itlMs: 5, streamInterval: 2 });
});
afterAll(async () => {
  await ref?.close();
});

describe('machine clock', () => {
  it('maps performance.now() onto process.hrtime (CLOCK_MONOTONIC)', () => {
    const a = toMachineClock(performance.now());
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const b = toMachineClock(performance.now());
    expect(hr).toBeGreaterThanOrEqual(a - 0.05);
    expect(hr).toBeLessThanOrEqual(b + 0.05);
    // performance.now() starts near zero at process start: the offset is the monotonic time then.
    expect(clockOffsetMs).toBeGreaterThan(0);
  });

  it('orders client and server timestamps across processes: sent ≤ received ≤ first chunk written ≤ first chunk read', async () => {
    const conn = { baseUrl: ref.url, timeoutMs: 10_000, network: LOOPBACK };
    await ref.resetStats();
    const outcomes = [];
    for (let i = 0; i < 5; i += 1) {
      outcomes.push(
        await chatCompletion(
          conn,
          { model: MODEL, messages: [{ role: 'user', content: `What is ${i} + 1?` }], stream: true, max_tokens: 8 },
          { requestId: `clk-${i}` },
        ),
      );
    }
    const tl = await ref.timeline();
    expect(typeof tl.clockOffsetMs).toBe('number');
    for (const o of outcomes) {
      expect(o.ok).toBe(true);
      const s = tl.entries.find((e) => e.id === o.requestId)!;
      const sent = toMachineClock(o.startedAt);
      const read = toMachineClock(o.startedAt + o.ttftMs!);
      const received = s.receivedAtMs + tl.clockOffsetMs;
      const written = s.firstChunkSentAtMs! + tl.clockOffsetMs;
      expect(received).toBeGreaterThanOrEqual(sent);
      expect(written).toBeGreaterThan(received + 35); // the server's 40 ms TTFT
      expect(read).toBeGreaterThanOrEqual(written);
      // Loopback plus two event-loop hops: well under 50 ms even on a busy machine.
      expect(read - sent - (written - received)).toBeLessThan(50);
    }
  });
});

describe('load transport', () => {
  it('keeps one keep-alive connection per stream and reuses it request after request', async () => {
    const sockets = new Set<Socket>();
    let open = 0;
    let peak = 0;
    const server = createServer((req, res) => {
      sockets.add(req.socket);
      open += 1;
      peak = Math.max(peak, open);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n');
        setTimeout(() => {
          res.end(
            'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n',
          );
          open -= 1;
        }, 5);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const run = await runLoadLevel(
        { baseUrl: url, timeoutMs: 5000, network: LOOPBACK },
        { model: 'm', concurrency: 4, requests: 40, inputTokens: 16, outputTokens: 2 },
      );
      expect(run.outcomes.filter((o) => o.ok)).toHaveLength(40);
      expect(peak).toBe(4);
      expect(sockets.size).toBe(4);

      // A caller-owned pool is shared across levels and not destroyed by them.
      sockets.clear();
      const agent = createEndpointAgent(url, 2);
      await runLoadLevel(
        { baseUrl: url, timeoutMs: 5000, agent, network: LOOPBACK },
        { model: 'm', concurrency: 2, requests: 6, inputTokens: 16, outputTokens: 2 },
      );
      await runLoadLevel(
        { baseUrl: url, timeoutMs: 5000, agent, network: LOOPBACK },
        { model: 'm', concurrency: 2, requests: 6, inputTokens: 16, outputTokens: 2 },
      );
      expect(sockets.size).toBe(2);
      agent.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
