// One flat config for the whole workspace. Module boundaries are enforced by Nx project tags:
// scope:* says who may use a project, type:* says which layer it is.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';

// Dashboard feature folders (one per route under app/(dashboard), e.g. clusters, models, _overview).
// A feature may use src/components, src/lib, src/trpc and its own folder, never another feature's
// files: what two features share moves to src/components (see docs/architecture.md, "Dashboard").
const DASHBOARD = 'apps/web/src/app/(dashboard)';
const dashboardFeatures = readdirSync(new URL(`./${DASHBOARD}/`, import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const featureBoundaries = dashboardFeatures.map((feature) => ({
  files: [`${DASHBOARD}/${feature}/**/*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            // A relative path that climbs out and back into a different folder: ../models/x, ../../_overview/x.
            regex: `^(\\.\\./)+(?!${escapeRegex(feature)}/)[^./][^/]*/`,
            message: `The ${feature} feature may not import another feature's files; move what is shared to src/components or src/lib.`,
          },
          {
            regex: `^~/app/(?!\\(dashboard\\)/${escapeRegex(feature)}/)`,
            message: `The ${feature} feature may not import another feature's files; move what is shared to src/components or src/lib.`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.next/**',
      '**/generated/**',
      '**/next-env.d.ts',
      '**/test-results/**',
      '**/playwright-report/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: ['@prisma/*', 'bullmq', 'ioredis', 'next', 'next/*', 'react', 'pg'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: ['@prisma/*', 'bullmq', 'ioredis', 'next', 'next/*', 'react', 'pg', 'pino', 'better-auth', 'better-auth/*', 'node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:child_process', 'undici'] },
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util'], bannedExternalImports: ['@prisma/*', 'bullmq', 'pg', 'next', 'next/*'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:data', 'type:util', 'type:queue', 'type:adapter'] },
            { sourceTag: 'type:queue', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
            { sourceTag: 'type:api', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:service', 'type:data', 'type:util', 'type:queue', 'type:adapter'] },
            { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:shared'], bannedExternalImports: ['@prisma/*', 'bullmq', 'pg', 'next', 'next/*'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:service', 'type:data', 'type:util', 'type:api', 'type:queue', 'type:ui', 'type:adapter'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data', 'type:tool'] },
            // Dev tooling (launcher, seeds, benchmarks) may use anything; nothing in apps/packages may use it.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  ...featureBoundaries,
  {
    // Shared components and helpers are used by features, so they may not depend on one.
    files: ['apps/web/src/components/**/*.{ts,tsx}', 'apps/web/src/lib/**/*.{ts,tsx}', 'apps/web/src/trpc/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^~/app/|/app/\\(dashboard\\)/', message: 'Shared code may not import a dashboard feature folder.' }] }],
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', '**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
