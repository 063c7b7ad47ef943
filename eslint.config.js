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

// Who may import whom (docs/architecture.md, "Layers and who may import whom").
const LAYERS = [
  {
    sourceTag: 'type:contracts',
    onlyDependOnLibsWithTags: [],
    bannedExternalImports: ['@prisma/*', 'bullmq', 'ioredis', 'next', 'next/*', 'react', 'pg'],
  },
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:contracts'],
    bannedExternalImports: [
      '@prisma/*',
      'bullmq',
      'ioredis',
      'next',
      'next/*',
      'react',
      'pg',
      'pino',
      'better-auth',
      'better-auth/*',
      'node:fs',
      'node:fs/*',
      'node:net',
      'node:http',
      'node:https',
      'node:child_process',
      'undici',
    ],
  },
  { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
  // The network policy's connect/fetch layer (packages/net): what adapters and services send through.
  {
    sourceTag: 'type:net',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util'],
    bannedExternalImports: ['@prisma/*', 'bullmq', 'pg', 'next', 'next/*'],
  },
  {
    sourceTag: 'type:adapter',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util', 'type:net'],
    bannedExternalImports: ['@prisma/*', 'bullmq', 'pg', 'next', 'next/*'],
  },
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:data', 'type:util', 'type:queue', 'type:adapter', 'type:net'],
  },
  { sourceTag: 'type:queue', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
  // The API sees the service layer (its context type, audit actors and test dependencies come from
  // there), the contracts it parses input with, and the pure domain rules (role ordering); never the
  // database, the queue or an adapter.
  { sourceTag: 'type:api', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:service'] },
  {
    sourceTag: 'scope:agent',
    onlyDependOnLibsWithTags: ['scope:shared'],
    bannedExternalImports: ['@prisma/*', 'bullmq', 'pg', 'next', 'next/*'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:contracts',
      'type:domain',
      'type:service',
      'type:data',
      'type:util',
      'type:api',
      'type:queue',
      'type:ui',
      'type:adapter',
      'type:net',
    ],
  },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data', 'type:tool'] },
  // Dev tooling (launcher, seeds, local stand-ins, benchmarks, migration CLI) may use anything.
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
];

// Test files are leaves nothing imports, so they alone may also start the local stand-ins in tools/
// (fake Hub, reference endpoint): real servers on loopback instead of mocks. Code that ships, and the
// testing entry points other packages import (e.g. @fleetplane/db/testing), may not.
const TEST_FILES = ['**/*.test.ts', '**/*.test.tsx', '**/*.spec.ts'];
const LAYERS_FOR_TESTS = LAYERS.map((c) =>
  c.onlyDependOnLibsWithTags.includes('*') || c.onlyDependOnLibsWithTags.includes('type:tool')
    ? c
    : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:tool'] },
);

// One data-access rule (docs/decisions.md 28): code reaches Postgres through the Prisma client it is
// given; raw SQL and the plain `pg` driver live only in named query modules (`*.sql.ts`), each with an
// integration test. Test files may query raw to check what was stored; the migration and per-test-run
// database helpers in packages/db administer databases rather than read or write data.
const QUERY_MODULES = ['**/*.sql.ts'];
const RAW_SQL_EXEMPT = [...QUERY_MODULES, 'packages/db/src/migrations/**', 'packages/db/src/testing/**'];
const RAW_SQL_MESSAGE = 'Raw SQL lives in a named query module (*.sql.ts) with its own test; see docs/decisions.md 28.';
const RAW_SQL_RULES = {
  'no-restricted-properties': [
    'error',
    ...['$queryRaw', '$queryRawUnsafe', '$executeRaw', '$executeRawUnsafe', '$queryRawTyped'].map((property) => ({
      property,
      message: RAW_SQL_MESSAGE,
    })),
    ...['sql', 'raw', 'join', 'empty'].map((property) => ({ object: 'Prisma', property, message: RAW_SQL_MESSAGE })),
  ],
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { paths: [{ name: 'pg', message: 'The pg driver is used by query modules only (*.sql.ts); see docs/decisions.md 28.' }] },
  ],
};

function moduleBoundaries(depConstraints) {
  return ['error', { allow: [], enforceBuildableLibDependency: false, depConstraints }];
}

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
      '@nx/enforce-module-boundaries': moduleBoundaries(LAYERS),
    },
  },
  ...featureBoundaries,
  {
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.{ts,tsx}'],
    ignores: [...RAW_SQL_EXEMPT, ...TEST_FILES],
    rules: RAW_SQL_RULES,
  },
  {
    // Services hold the agent API's pg pool as a type (TelemetryPool) but never send it a statement.
    files: ['packages/services/src/**/*.ts'],
    ignores: [...RAW_SQL_EXEMPT, ...TEST_FILES],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='query']", message: RAW_SQL_MESSAGE }],
    },
  },
  {
    // Shared components and helpers are used by features, so they may not depend on one.
    files: ['apps/web/src/components/**/*.{ts,tsx}', 'apps/web/src/lib/**/*.{ts,tsx}', 'apps/web/src/trpc/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^~/app/|/app/\\(dashboard\\)/', message: 'Shared code may not import a dashboard feature folder.' }] },
      ],
    },
  },
  {
    files: TEST_FILES,
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(LAYERS_FOR_TESTS) },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', '**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
