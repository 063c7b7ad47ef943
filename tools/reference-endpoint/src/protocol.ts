import type { ServerResponse } from 'node:http';

/** vLLM's (newer) error body: {"error":{"message","type","param","code"}}. */
export function sendError(res: ServerResponse, status: number, message: string, type: string, param: string | null = null): void {
  sendJson(res, status, { error: { message, type, param, code: status } });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

export const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  404: 'NotFoundError',
  413: 'BadRequestError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

/** Builds the constant parts of a request's SSE chunks once, so each token costs one small stringify. */
export class ChunkWriter {
  private readonly head: string;
  constructor(
    id: string,
    created: number,
    model: string,
    private readonly reasoningField: 'reasoning' | 'reasoning_content',
  ) {
    this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`;
  }

  private event(delta: string, finishReason: string | null = null): string {
    return `${this.head}${delta},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : JSON.stringify(finishReason)}${finishReason === null ? '' : ',"stop_reason":null'}}]}\n\n`;
  }

  role(): string {
    return this.event('{"role":"assistant","content":""}');
  }

  content(text: string): string {
    return this.event(`{"content":${JSON.stringify(text)}}`);
  }

  reasoning(text: string): string {
    return this.event(`{"${this.reasoningField}":${JSON.stringify(text)}}`);
  }

  toolHeader(id: string, name: string): string {
    return this.event(
      `{"tool_calls":[{"index":0,"id":${JSON.stringify(id)},"type":"function","function":{"name":${JSON.stringify(name)},"arguments":""}}]}`,
    );
  }

  toolArgs(text: string): string {
    return this.event(`{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(text)}}}]}`);
  }

  finish(reason: string): string {
    return this.event('{}', reason);
  }

  usage(id: string, created: number, model: string, prompt: number, completion: number): string {
    return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion } })}\n\n`;
  }
}

export const DONE = 'data: [DONE]\n\n';
