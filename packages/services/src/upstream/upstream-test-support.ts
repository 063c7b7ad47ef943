// Shared fixtures of the upstream and pipeline integration tests: a real database and the settings
// that point at a fake Hub. The Hub and its seed repos (tinyRepoSeed) come from @fleetplane/fake-hub,
// which only test files import (packages never import tools).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import type { UpstreamSettings } from '../shared/upstream-settings';

export const TEST_SECRET_KEY = 'ab'.repeat(32);
export const PATTERNS = ['*.safetensors', '*.json', 'tokenizer*', '*.md'];
export const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterSeconds: 0 };

export function testPrisma(): PrismaClient {
  return createPrismaClient(inject('databaseUrl'));
}

export function uniqueRepoId(prefix = 'tiny') {
  return `acme/${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function testSettings(hubUrl: string, env: Record<string, string | undefined> = {}): Promise<UpstreamSettings> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'fp-upstream-'));
  return { defaultHubUrl: hubUrl, secretKey: TEST_SECRET_KEY, dataDir, env };
}

export async function makeFamily(prisma: PrismaClient) {
  const slug = `fam-${randomBytes(4).toString('hex')}`;
  return prisma.modelFamily.create({ data: { slug, name: slug, totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 } });
}

export async function makeTrackedRepo(
  prisma: PrismaClient,
  hubRepoId: string,
  extra: { autoStartPipelines?: boolean; filePatterns?: string[] } = {},
) {
  const family = await makeFamily(prisma);
  return prisma.trackedRepo.create({
    data: {
      familyId: family.id,
      hubRepoId,
      filePatterns: extra.filePatterns ?? PATTERNS,
      autoStartPipelines: extra.autoStartPipelines ?? false,
    },
  });
}
