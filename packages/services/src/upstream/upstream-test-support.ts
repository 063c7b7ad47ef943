// Shared fixtures of the upstream and pipeline integration tests: a real database, a fake Hub with a
// small repo whose files are synthetic (deterministic bytes, generated on demand).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import type { TRepoSeed } from '@fleetplane/fake-hub';
import type { UpstreamSettings } from './upstream-settings';

export const TEST_SECRET_KEY = 'ab'.repeat(32);
export const PATTERNS = ['*.safetensors', '*.json', 'tokenizer*', '*.md'];
export const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterSeconds: 0 };

export function testPrisma(): PrismaClient {
  return createPrismaClient(inject('databaseUrl'));
}

export function uniqueRepoId(prefix = 'tiny') {
  return `acme/${prefix}-${randomBytes(4).toString('hex')}`;
}

/** One repo with two weight shards, a config, a tokenizer and a README. */
export function tinyRepoSeed(id: string, shardBytes = 256 * 1024): TRepoSeed {
  return {
    id,
    commits: [
      {
        title: 'Upload model',
        date: '2026-05-01T00:00:00.000Z',
        files: {
          'config.json': '{"model_type":"deepseek_v4","quantization_config":{"quant_method":"fp8","fmt":"e4m3"}}\n',
          'model-00001-of-00002.safetensors': { sizeBytes: shardBytes, seed: `${id}-1` },
          'model-00002-of-00002.safetensors': { sizeBytes: shardBytes, seed: `${id}-2` },
          'tokenizer.json': '{"version":"1.0"}\n',
          'README.md': '# tiny\n',
          'assets/logo.png': new Uint8Array(16).fill(3),
        },
      },
    ],
  };
}

export async function testSettings(hubUrl: string, env: Record<string, string | undefined> = {}): Promise<UpstreamSettings> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'fp-upstream-'));
  return { defaultHubUrl: hubUrl, secretKey: TEST_SECRET_KEY, dataDir, env };
}

export async function makeFamily(prisma: PrismaClient) {
  const slug = `fam-${randomBytes(4).toString('hex')}`;
  return prisma.modelFamily.create({ data: { slug, name: slug, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 } });
}

export async function makeTrackedRepo(prisma: PrismaClient, hubRepoId: string, extra: { autoStartPipelines?: boolean; filePatterns?: string[] } = {}) {
  const family = await makeFamily(prisma);
  return prisma.trackedRepo.create({
    data: { familyId: family.id, hubRepoId, filePatterns: extra.filePatterns ?? PATTERNS, autoStartPipelines: extra.autoStartPipelines ?? false },
  });
}
