// Prints a digest of the generated Prisma client, for Nx to hash as a runtime input (nx.json sharedGlobals).
// Why: the client is generated into packages/db/src/generated, which is gitignored, and Nx leaves ignored files
// out of its input hashes. A build run before `db:generate` after a schema change bundled the OLD client but was
// cached under the NEW schema's hash, and the shared cache (/root/.nx) then served that bundle to every later
// build and clone (seen: the worker failed on a column the stale client did not know).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = 'packages/db/src/generated/prisma';
const hash = createHash('sha256');
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // not generated yet: the digest of nothing, which differs from any generated client
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.isFile()) hash.update(path).update('\0').update(readFileSync(path));
  }
}
walk(root);
process.stdout.write(hash.digest('hex'));
