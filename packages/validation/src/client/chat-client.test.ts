import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicy } from '@fleetplane/net';
import { chatCompletion, errorMessageFromBody, getEndpoint, normaliseBaseUrl } from './chat-client';

// A tiny scripted server: each test picks a behaviour through the path of the base URL.
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const handlers = new Map<string, Handler>();
const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let base = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sse = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
const delta = (d: object, finish: string | null = null) =>
  sse({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish }],
  });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      const key = (req.url ?? '').split('/')[1]!;
      const h = handlers.get(key);
      if (!h) {
        res.writeHead(404).end();
        return;
      }
      h(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

// The endpoints under test listen on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };
const conn = (key: string, over: object = {}) => ({ baseUrl: `${base}/${key}`, timeoutMs: 2000, network: LOOPBACK, ...over });
const body = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('chatCompletion (streaming)', () => {
  it('parses events split across reads (even inside a UTF-8 character) and times them', async () => {
    handlers.set('split', async (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = delta({ role: 'assistant', content: '' }) + delta({ content: 'Grüß' });
      const bytes = Buffer.from(text);
      const cut = bytes.indexOf(Buffer.from('ü')) + 1; // split inside the two-byte ü
      res.write(bytes.subarray(0, cut));
      await sleep(30);
      res.write(bytes.subarray(cut));
      await sleep(30);
      res.write(delta({ content: ' dich' }));
      await sleep(30);
      res.write(
        delta({}, 'stop') +
          sse({ id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }) +
          'data: [DONE]\n\n',
      );
      res.end();
    });
    const o = await chatCompletion(conn('split', { apiKey: 'sk-test' }), { ...body, stream: true }, { requestId: 'req-1' });
    expect(o.ok).toBe(true);
    expect(o.content).toBe('Grüß dich');
    expect(o.usage).toEqual({ promptTokens: 5, completionTokens: 3 });
    expect(o.finishReason).toBe('stop');
    // TTFT waits for the first real content (the second read), not the role chunk.
    expect(o.ttftMs!).toBeGreaterThanOrEqual(25);
    expect(o.itlMs).toHaveLength(1);
    expect(o.itlMs[0]!).toBeGreaterThanOrEqual(25);
    expect(o.e2eMs!).toBeGreaterThanOrEqual(o.ttftMs! + o.itlMs[0]! + 25);
    const sent = seen.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    expect(sent.headers['x-request-id']).toBe('req-1');
    expect(JSON.parse(sent.body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('reports a stream that ends without [DONE] or a finish_reason', async () => {
    handlers.set('cut', (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(delta({ content: 'partial' }));
    });
    const o = await chatCompletion(conn('cut'), { ...body, stream: true });
    expect(o.ok).toBe(false);
    expect(o.error).toBe('stream ended before [DONE] or a finish_reason');
    expect(o.content).toBe('partial');
  });

  it('reports an error event inside the stream', async () => {
    handlers.set('err-event', (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        delta({ content: 'a' }) +
          sse({ error: { message: 'EngineDeadError', type: 'InternalServerError', param: null, code: 500 } }) +
          'data: [DONE]\n\n',
      );
    });
    const o = await chatCompletion(conn('err-event'), { ...body, stream: true });
    expect(o).toMatchObject({ ok: false, error: 'stream error: EngineDeadError' });
  });
});

describe('chatCompletion (errors, timeouts, cancellation)', () => {
  it('surfaces vLLM error bodies with the status', async () => {
    handlers.set('bad', (_req, _b, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: "This model's maximum context length is 8192 tokens.", type: 'BadRequestError', param: null, code: 400 },
        }),
      );
    });
    const o = await chatCompletion(conn('bad'), body);
    expect(o).toMatchObject({ ok: false, status: 400, error: "HTTP 400: This model's maximum context length is 8192 tokens." });
  });

  it('times out a silent server and can be cancelled', async () => {
    handlers.set('silent', () => undefined);
    const t = await chatCompletion(conn('silent', { timeoutMs: 100 }), body);
    expect(t).toMatchObject({ ok: false, aborted: 'timeout', error: 'timed out after 100 ms' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const c = await chatCompletion(conn('silent', { signal: ac.signal }), { ...body, stream: true });
    expect(c).toMatchObject({ ok: false, aborted: 'cancelled', error: 'cancelled' });
  });

  it('cancels a stream mid-way', async () => {
    handlers.set('slow-stream', async (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 50 && !res.destroyed; i += 1) {
        res.write(delta({ content: 'x' }));
        await sleep(20);
      }
      res.end();
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 80);
    const o = await chatCompletion(conn('slow-stream', { signal: ac.signal }), { ...body, stream: true });
    expect(o).toMatchObject({ ok: false, aborted: 'cancelled' });
  });
});

describe('chatCompletion (non-streaming)', () => {
  it('reads content, reasoning_content, tool calls and usage', async () => {
    handlers.set('json', (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                reasoning_content: 'hmm',
                tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
        }),
      );
    });
    const o = await chatCompletion(conn('json'), body);
    expect(o).toMatchObject({
      ok: true,
      content: '',
      reasoning: 'hmm',
      toolCalls: [{ index: 0, id: 't1', name: 'f', arguments: '{"a":1}' }],
      finishReason: 'tool_calls',
      usage: { promptTokens: 9, completionTokens: 4 },
      itlMs: [],
    });
    expect(o.ttftMs).toBe(o.e2eMs);
  });
});

describe('helpers', () => {
  it('reads every error body shape', () => {
    expect(errorMessageFromBody('{"error":{"message":"m","type":"t","param":null,"code":400}}')).toBe('m');
    expect(errorMessageFromBody('{"object":"error","message":"old","type":"t","param":null,"code":400}')).toBe('old');
    expect(errorMessageFromBody('{"detail":"Not Found"}')).toBe('Not Found');
    expect(errorMessageFromBody('{"error":"Unauthorized"}')).toBe('Unauthorized');
    expect(errorMessageFromBody('plain text')).toBe('plain text');
    expect(errorMessageFromBody('')).toBe('(empty body)');
  });

  it('normalises base URLs', () => {
    expect(normaliseBaseUrl('http://h:8000/v1/')).toBe('http://h:8000');
    expect(normaliseBaseUrl('http://h:8000')).toBe('http://h:8000');
  });

  it('GETs JSON and reports failures', async () => {
    handlers.set('models', (req, _b, res) => {
      res.writeHead(req.headers.authorization === 'Bearer k' ? 200 : 401, { 'content-type': 'application/json' });
      res.end(req.headers.authorization === 'Bearer k' ? '{"object":"list","data":[]}' : '{"error":"Unauthorized"}');
    });
    expect(await getEndpoint(conn('models', { apiKey: 'k' }), '/v1/models')).toMatchObject({
      ok: true,
      status: 200,
      body: { object: 'list', data: [] },
    });
    expect(await getEndpoint(conn('models'), '/v1/models')).toMatchObject({ ok: false, status: 401, error: 'HTTP 401: Unauthorized' });
  });
});
