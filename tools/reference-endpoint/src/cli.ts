#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { ZDegradations } from './degradations.schema';
import { startReferenceEndpoint } from './server';

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

function num(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got "${v}"`);
    return n;
  };
}

const program = new Command('reference-endpoint').description(
  "OpenAI-compatible reference server speaking vLLM's protocol, with switchable degradations.",
);

program
  .command('serve')
  .description('Serve until SIGINT/SIGTERM.')
  .option('--port <port>', 'TCP port (0 = random)', int('--port'), 8000)
  .option('--host <host>', 'Interface to bind', '127.0.0.1')
  .option('--model <name>', 'Served model name', 'deepseek-ai/DeepSeek-V4-Flash')
  .option('--engine <engine>', 'vllm or sglang (reasoning field name, /version)', 'vllm')
  .option('--engine-version <version>', 'Reported by /version', '0.11.2')
  .option('--max-model-len <tokens>', 'Context length (max_model_len)', int('--max-model-len'), 1_048_576)
  .option('--seed <n>', 'Seed for every deterministic choice', int('--seed'), 0)
  .option('--ttft-ms <ms>', 'Base time to first token', num('--ttft-ms'), 50)
  .option('--prefill-ms-per-1k <ms>', 'Extra TTFT per 1000 prompt tokens', num('--prefill-ms-per-1k'), 2)
  .option('--itl-ms <ms>', 'Time between output tokens', num('--itl-ms'), 10)
  .option('--stream-interval <tokens>', 'Tokens per streamed chunk after the first (vLLM --stream-interval)', int('--stream-interval'), 1)
  .option('--max-num-seqs <n>', 'Running requests before new ones wait', int('--max-num-seqs'), 1024)
  .option('--api-key <key>', 'Require Authorization: Bearer <key> on /v1/*')
  .option('--degradations <json>', 'Initial degradations as JSON, e.g. \'{"wrongAnswerRate":0.5}\'')
  .option('--ready-json', 'Print one JSON line {"event":"listening","url":…} when ready (for parent processes)')
  .action(async (o: Record<string, unknown>) => {
    let degradations = {};
    if (typeof o.degradations === 'string') {
      let raw: unknown;
      try {
        raw = JSON.parse(o.degradations);
      } catch (err) {
        throw new InvalidArgumentError(`--degradations is not JSON: ${(err as Error).message}`);
      }
      const parsed = ZDegradations.safeParse(raw);
      if (!parsed.success)
        throw new InvalidArgumentError(`--degradations: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      degradations = parsed.data;
    }
    if (o.engine !== 'vllm' && o.engine !== 'sglang')
      throw new InvalidArgumentError(`--engine must be vllm or sglang, got "${String(o.engine)}"`);
    const ep = await startReferenceEndpoint({
      port: o.port as number,
      host: o.host as string,
      servedModelName: o.model as string,
      engine: o.engine,
      engineVersion: o.engineVersion as string,
      maxModelLen: o.maxModelLen as number,
      seed: o.seed as number,
      timing: {
        ttftBaseMs: o.ttftMs as number,
        prefillMsPer1kTokens: o.prefillMsPer1k as number,
        itlMs: o.itlMs as number,
        streamInterval: o.streamInterval as number,
      },
      maxNumSeqs: o.maxNumSeqs as number,
      apiKey: o.apiKey as string | undefined,
      degradations,
    });
    if (o.readyJson) process.stdout.write(`${JSON.stringify({ event: 'listening', url: ep.url, pid: process.pid })}\n`);
    else
      process.stdout.write(
        `Reference endpoint listening on ${ep.url} (model ${ep.options.servedModelName}, ${ep.options.engine} ${ep.options.engineVersion}, max_model_len ${ep.options.maxModelLen})\n`,
      );
    const stop = () => {
      void ep.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
