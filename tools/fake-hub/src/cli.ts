#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { startFakeHub } from './hub';

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('Expected a port number 0-65535');
  return n;
};

const program = new Command('fake-hub').description('Local Hugging Face Hub stand-in');

program
  .command('serve')
  .description('Serve the demo repositories (state persists under --data-dir)')
  .option('--port <port>', 'port to listen on (127.0.0.1)', port, 7860)
  .option('--data-dir <dir>', 'where published commits and digests are kept', '.data/fake-hub')
  .option('--webhook-url <url>', 'POST a Hub-style webhook here on every publish')
  // From the environment too, so a launcher need not put the secret on a command line (visible in ps).
  .option('--webhook-secret <secret>', 'sent as X-Webhook-Secret (default: $FAKE_HUB_WEBHOOK_SECRET)')
  .action(async (opts: { port: number; dataDir: string; webhookUrl?: string; webhookSecret?: string }) => {
    const webhookSecret = opts.webhookSecret ?? process.env.FAKE_HUB_WEBHOOK_SECRET;
    if (opts.webhookUrl && !webhookSecret)
      throw new InvalidArgumentError('--webhook-url needs --webhook-secret (or FAKE_HUB_WEBHOOK_SECRET)');
    const hub = await startFakeHub({
      port: opts.port,
      dataDir: opts.dataDir,
      webhook: opts.webhookUrl ? { url: opts.webhookUrl, secret: webhookSecret! } : undefined,
    });
    console.log(`fake hub listening on ${hub.url} (HF_ENDPOINT=${hub.url})`);
    for (const r of hub.repos())
      console.log(`  ${r.id.padEnd(36)} ${r.headSha.slice(0, 12)}  ${r.commits.length} commits, ${r.files.length} files`);
    const stop = async (signal: string) => {
      console.log(`${signal}: closing`);
      await hub.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('publish')
  .description('Ask a running fake hub to publish a realistic change')
  .requiredOption('--repo <owner/name>', 'repository id')
  .requiredOption('--kind <kind>', 'weights | tokenizer | docs')
  .option('--hub <url>', 'fake hub base URL', 'http://127.0.0.1:7860')
  .action(async (opts: { hub: string; repo: string; kind: string }) => {
    const kind = z.enum(['weights', 'tokenizer', 'docs']).safeParse(opts.kind);
    if (!kind.success) throw new InvalidArgumentError(`--kind must be weights, tokenizer or docs (got ${opts.kind})`);
    const res = await fetch(`${opts.hub.replace(/\/$/, '')}/_fake/repos/${opts.repo}/publish-demo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: kind.data }),
    });
    const body = (await res.json()) as { sha?: string; title?: string; paths?: string[]; error?: string };
    if (!res.ok) throw new Error(`publish failed (HTTP ${res.status}): ${body.error ?? 'unknown error'}`);
    console.log(`${opts.repo}: ${body.sha} "${body.title}" (${body.paths?.join(', ')})`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
