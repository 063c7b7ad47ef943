// Drives Prisma's WebAssembly schema engine, so migrations can be applied, created and diffed on
// machines that cannot download Prisma's native schema engine. The migrations folder it reads and
// writes is the standard one: the normal Prisma CLI works on it too where it can run.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine as WasmSchemaEngine } from '@prisma/schema-engine-wasm';

const require = createRequire(import.meta.url);

export type SchemaEngine = WasmSchemaEngine;

export interface EngineLogger {
  (message: string): void;
}

/**
 * Instantiates the engine. The glue JS comes from @prisma/schema-engine-wasm; the wasm binary is the
 * one shipped inside the `prisma` CLI package so the engine matches the CLI that generated the client.
 */
type Glue = Record<string, unknown> & {
  __wbg_set_wasm: (exports: WebAssembly.Exports) => void;
  SchemaEngine: { new: (options: unknown, callback: (msg: string) => void, adapter: object) => Promise<SchemaEngine> };
};

// The wasm-bindgen glue is a module singleton: instantiate the wasm once per process and create
// every engine from it (a second instantiation leaves the glue pointing at a half-set-up module).
let gluePromise: Promise<Glue> | undefined;

function loadGlue(): Promise<Glue> {
  gluePromise ??= (async () => {
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(gluePath)) as Glue;
    const wasmPath = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'schema_engine_bg.wasm');
    const bytes = await readFile(wasmPath);
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue } as WebAssembly.Imports);
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
    return glue;
  })();
  return gluePromise;
}

/**
 * Opens an engine over the given driver adapter. The glue JS comes from @prisma/schema-engine-wasm;
 * the wasm binary is the one inside the `prisma` CLI package, so it matches the CLI that generated the client.
 */
export async function openSchemaEngine(
  schemaText: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  log: EngineLogger = () => undefined,
): Promise<SchemaEngine> {
  const glue = await loadGlue();
  return glue.SchemaEngine.new(
    { datamodels: [['schema.prisma', schemaText]] },
    (message: string) => log(message),
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
