// One name per feature across layers (docs/architecture.md, "Where does X go"). The tRPC side of it: every
// file in src/routers holds exactly one router, `<key>Router` in `<kebab-key>.router.ts`, registered in
// root.ts under `<key>`, so the code behind `trpc.foo.bar` is in foo.router.ts. And every feature keeps its
// name in the layers it has: the dashboard route folder, the router, the contracts folder, the services
// folder and the worker processor. Features older than the rule that still carry another name in some
// layer are listed in RENAMES_DUE; the test fails when a new mismatch appears or a listed one is fixed
// (so the list only shrinks).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(SRC, '../../..');
const ROUTERS = path.join(SRC, 'routers');

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

type Layer = 'web' | 'router' | 'contracts' | 'services' | 'processor';

const LAYER_PATH: Record<Layer, (name: string) => string> = {
  web: (n) => `apps/web/src/app/(dashboard)/${n}`,
  router: (n) => `packages/api/src/routers/${n}.router.ts`,
  contracts: (n) => `packages/contracts/src/${n}`,
  services: (n) => `packages/services/src/${n}`,
  processor: (n) => `apps/worker/src/processors/${n}.processor.ts`,
};

/**
 * Feature name -> the layers it has, each found under that name. A feature with several routers names them
 * `<feature>-<part>` (validation-suites, validation-runs). Layers a feature does not need are left out.
 */
const FEATURES: Record<string, Layer[]> = {
  // the fleet: inventory pages and the home page's views
  fleet: ['router'],
  'fleet-health': ['router'],
  sites: ['web', 'router'],
  clusters: ['web', 'router'],
  nodes: ['web', 'router'],
  gpus: ['web', 'router'],
  'join-tokens': ['router'],
  'node-credentials': ['router'],
  enrollment: ['contracts', 'services'],
  telemetry: ['services', 'processor'],
  health: ['contracts', 'services', 'processor'],
  alerts: ['web', 'router', 'services'],
  engine: ['router', 'contracts', 'services'],
  'node-commands': ['router', 'contracts', 'services'],
  // the upgrade path: upstream models, pipelines, validation, artifacts, proposals, rollouts
  models: ['web', 'router'],
  demo: ['router'],
  pipelines: ['web', 'router', 'services', 'processor'],
  validation: ['web', 'contracts', 'services', 'processor'],
  'validation-suites': ['router'],
  'validation-runs': ['router'],
  artifacts: ['web', 'router', 'services'],
  recipes: ['web', 'router', 'contracts', 'services'],
  proposals: ['web', 'router', 'contracts', 'services'],
  rollouts: ['web', 'router', 'contracts', 'services', 'processor'],
  capacity: ['router', 'contracts', 'services'],
  catalog: ['router'],
  // administration
  me: ['router'],
  users: ['router', 'contracts', 'services'],
  audit: ['router', 'contracts', 'services'],
  'network-policy': ['router'],
  // background upkeep
  maintenance: ['services', 'processor'],
  notifications: ['processor'],
  outbox: ['services'],
  reconcile: ['services'],
};

/** Folders and files in a feature layer that are not a feature: shared code and cross-cutting contracts. */
const NOT_FEATURES = [
  'apps/web/src/app/(dashboard)/_overview', // the home page (fleet, fleet-health)
  'apps/web/src/app/(dashboard)/admin', // users, audit, network policy under one menu
  'packages/contracts/src/agent', // the agent wire protocol (telemetry, enrollment, commands, node state)
  'packages/contracts/src/auth',
  'packages/contracts/src/common',
  'packages/contracts/src/jobs', // every job definition, one <feature>.job.ts each
  'packages/services/src/shared',
  'packages/services/src/testing',
];

/** Historical names still to be renamed to the feature's name (path today -> feature). */
const RENAMES_DUE: Record<string, string> = {
  'packages/contracts/src/inventory': 'sites, clusters, nodes, gpus',
  'packages/services/src/inventory': 'sites, clusters, nodes, gpus, fleet',
  'packages/contracts/src/upstream': 'models (pipeline.schema.ts: pipelines)',
  'packages/services/src/upstream': 'models',
  'apps/worker/src/processors/upstream.processor.ts': 'models',
  'packages/contracts/src/validation-runs': 'validation',
  'packages/contracts/src/settings': 'network-policy',
  'packages/services/src/network': 'network-policy',
  'apps/web/src/app/(dashboard)/planner': 'capacity',
  'apps/web/src/app/(dashboard)/cost': 'capacity',
  'apps/web/src/app/(dashboard)/catalogs': 'catalog',
};

function entries(dir: string, suffix = ''): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => (suffix ? e.isFile() && e.name.endsWith(suffix) && !e.name.includes('.test.') : e.isDirectory()))
    .map((e) => `${dir}/${e.name}`);
}

describe('router files', () => {
  const files = readdirSync(ROUTERS).filter((f) => f.endsWith('.router.ts'));
  const root = readFileSync(path.join(SRC, 'root.ts'), 'utf8');

  it.each(files)('%s holds one router, named after the file and registered under that name', (file) => {
    const source = readFileSync(path.join(ROUTERS, file), 'utf8');
    const key = camel(file.replace(/\.router\.ts$/, ''));
    expect(source.match(/\brouter\(/g), 'router( calls').toHaveLength(1);
    expect([...source.matchAll(/export const (\w+) = router\(/g)].map((m) => m[1])).toEqual([`${key}Router`]);
    expect(root).toContain(`import { ${key}Router } from './routers/${file.replace(/\.ts$/, '')}';`);
    expect(root).toMatch(new RegExp(`^  ${key}: ${key}Router,$`, 'm'));
  });

  it('root.ts registers nothing else', () => {
    const registered = [...root.matchAll(/^ {2}(\w+): (\w+),$/gm)].map((m) => m[1]!);
    expect(registered.map((k) => `${kebab(k)}.router.ts`).sort()).toEqual([...files].sort());
  });
});

describe('feature names across layers', () => {
  it.each(Object.entries(FEATURES))('%s has its name in each of its layers', (feature, layers) => {
    for (const layer of layers)
      expect(existsSync(path.join(ROOT, LAYER_PATH[layer](feature))), `${layer}: ${LAYER_PATH[layer](feature)}`).toBe(true);
  });

  it('every route folder, router, contracts and services folder and processor belongs to a feature (or is a rename due)', () => {
    const named = new Set(Object.entries(FEATURES).flatMap(([f, layers]) => layers.map((l) => LAYER_PATH[l](f))));
    // A layer of a feature that does not list it is still that feature's (e.g. a future web page).
    for (const f of Object.keys(FEATURES)) for (const l of Object.keys(LAYER_PATH) as Layer[]) named.add(LAYER_PATH[l](f));
    const all = [
      ...entries('apps/web/src/app/(dashboard)'),
      ...entries('packages/api/src/routers', '.router.ts'),
      ...entries('packages/contracts/src'),
      ...entries('packages/services/src'),
      ...entries('apps/worker/src/processors', '.processor.ts'),
    ].filter((p) => !/\/\[|\/\(/.test(p.slice(p.lastIndexOf('/'))));
    const unnamed = all.filter((p) => !named.has(p) && !NOT_FEATURES.includes(p) && !(p in RENAMES_DUE));
    expect(unnamed, 'name it after a feature in FEATURES (or add the feature)').toEqual([]);
  });

  it('lists only renames still due', () => {
    const done = Object.keys(RENAMES_DUE).filter((p) => !existsSync(path.join(ROOT, p)));
    expect(done, 'renamed: remove from RENAMES_DUE').toEqual([]);
  });
});
