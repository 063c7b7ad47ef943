// Bundles the agent into one ESM file that runs on a GPU node with nothing but Node 20 installed.
// Usage: node build.mjs [--outfile path]
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--outfile');
const outfile = resolve(flag !== -1 && process.argv[flag + 1] ? process.argv[flag + 1] : `${root}/dist/fleetplane-agent.mjs`);

await build({
  entryPoints: [`${root}/src/index.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Minified code parses into less memory; names are kept so stack traces stay readable.
  minify: true,
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (pino, commander) still call require() for Node built-ins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __fleetplaneCreateRequire } from 'node:module';\nconst require = __fleetplaneCreateRequire(import.meta.url);",
  },
});
chmodSync(outfile, 0o755);
process.stdout.write(`built ${outfile}\n`);
