// The feature folders of this package (enrollment, telemetry, upstream, pipelines, ...) may depend on
// each other in one direction only, and `shared/` depends on none of them. A two-way import is how a
// helper one feature needs ends up owned by another: move it to `shared/` instead. Test files are left
// out: a scenario test may reach into other features to set itself up, and nothing imports a test, so
// it cannot close a loop in the code that runs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const SHARED = 'shared';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The feature folder a file under src/ belongs to, or null for the package's root files (index, context, errors). */
function featureOf(file: string): string | null {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Relative specifiers of every static import, re-export and dynamic import in a module. */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) found.push(match[1]!);
  return found;
}

/** Feature folder -> the other feature folders it imports, with one example file per edge. */
function featureEdges(files: string[], read: (file: string) => string): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of files) {
    const from = featureOf(file);
    if (!from) continue;
    for (const spec of relativeImports(read(file))) {
      const to = featureOf(path.resolve(path.dirname(file), spec));
      if (!to || to === from) continue;
      const targets = edges.get(from) ?? new Map<string, string>();
      if (!targets.has(to)) targets.set(to, path.relative(SRC, file));
      edges.set(from, targets);
    }
  }
  return edges;
}

function twoWayImports(edges: Map<string, Map<string, string>>): string[] {
  const problems: string[] = [];
  for (const [a, targets] of edges) {
    for (const [b, example] of targets) {
      const back = edges.get(b)?.get(a);
      if (back && a < b) problems.push(`${a} <-> ${b} (${example}, ${back})`);
    }
  }
  return problems;
}

describe('services feature folders', () => {
  const edges = featureEdges(sourceFiles(SRC), (file) => readFileSync(file, 'utf8'));

  it('never import each other both ways', () => {
    expect(twoWayImports(edges)).toEqual([]);
  });

  it('keep shared/ free of feature imports', () => {
    expect([...(edges.get(SHARED)?.entries() ?? [])].map(([to, file]) => `${file} -> ${to}`)).toEqual([]);
  });

  it('sees real imports, so the checks above can fail', () => {
    // Guards the parser: the package does import across folders (e.g. upstream starts pipeline runs).
    expect(edges.get('upstream')?.has('pipelines')).toBe(true);
    expect(edges.get('telemetry')?.has(SHARED)).toBe(true);
  });

  it('reports a loop between two folders', () => {
    const files = ['a/one.ts', 'b/two.ts'].map((f) => path.join(SRC, f));
    const fake: Record<string, string> = {
      [files[0]!]: "import { two } from '../b/two';",
      [files[1]!]: "export { one } from '../a/one';\nconst later = () => import('../a/one');",
    };
    const loop = featureEdges(files, (file) => fake[file]!);
    expect(twoWayImports(loop)).toHaveLength(1);
  });
});
