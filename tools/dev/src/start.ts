// `npm start`: one command from a fresh clone to a running Fleetplane with demo data.
// Postgres/Redis: use the configured ones, or start private ones under .data/; then migrate, seed an
// empty database, create the first admin, build what is not built, and run web + worker.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@fleetplane/config';
import { DEMO_PASSWORD, DEMO_USERS } from './seed-demo-users';
import { startDemoFleetAgents } from './demo-fleet-agents';
import { startDemoSimulatedFleet } from './demo-sim-fleet';
import { prepareDatabase } from './prepare';
import { startDemoEndpoints, startDemoTraffic } from './demo-endpoints';
import { startDemoHubProcess } from './demo-hub';
import { waitForHttp as waitUntilUp } from './local-net';
import { ProcessGroup } from './process-group';
import { generatePassword, loadOrCreateLocalSecrets } from './secrets';
import {
  findRedisServer,
  postgresAnswers,
  redisAnswers,
  startEmbeddedPostgres,
  startPrivateRedis,
  type EmbeddedPostgresHandle,
} from './services';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const say = (msg: string) => process.stdout.write(`\x1b[1mfleetplane\x1b[0m ${msg}\n`);

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const dataDir = path.resolve(root, config.FLEETPLANE_DATA_DIR);
  // Locally the dashboard is where PORT puts it: sign-in cookies and CSRF checks compare against this origin,
  // so `PORT=3999 npm start` must not keep the default's :3000.
  const publicUrl = process.env.FLEETPLANE_PUBLIC_URL ? config.FLEETPLANE_PUBLIC_URL : `http://localhost:${config.PORT}`;
  const secrets = loadOrCreateLocalSecrets(dataDir);
  const group = new ProcessGroup();
  let embeddedPg: EmbeddedPostgresHandle | undefined;
  const cleanups: (() => Promise<void>)[] = [];

  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say('stopping…');
    await group.stopAll();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // A child that dies is started again (with backoff) so the rest of the stack keeps running.
  group.onRestart = (name, exit, delayMs, restart) => {
    say(
      `${name} exited unexpectedly (${exit}); restarting it in ${(delayMs / 1000).toFixed(delayMs < 1000 ? 1 : 0)} s (restart #${restart}). Ctrl-C stops everything.`,
    );
  };

  // ── Postgres ──
  let databaseUrl = config.DATABASE_URL;
  if (!(await postgresAnswers(databaseUrl))) {
    if (process.env.DATABASE_URL) {
      console.error(
        `No Postgres answers at ${redact(databaseUrl)} (DATABASE_URL). Start it, or unset DATABASE_URL to use an embedded one.`,
      );
      process.exit(1);
    }
    say('no Postgres on 127.0.0.1:5432; starting an embedded PostgreSQL under .data/postgres …');
    try {
      embeddedPg = await startEmbeddedPostgres(dataDir, 54329, { checkoutRoot: root });
    } catch (e) {
      console.error(
        `Could not start the embedded PostgreSQL (${(e as Error).message}).\nInstall PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL to a reachable server.` +
          (process.getuid?.() === 0
            ? '\nAs root the embedded server runs as the `postgres` user, which must be able to enter /var/tmp (or run `npm start` as an ordinary user).'
            : ''),
      );
      process.exit(1);
    }
    if (embeddedPg.shelteredBecause)
      say(
        `embedded PostgreSQL runs as the postgres user, and ${embeddedPg.shelteredBecause}: its binaries and data are in ${path.dirname(embeddedPg.databaseDir)}`,
      );
    cleanups.push(() => embeddedPg!.stop());
    databaseUrl = embeddedPg.url;
  }

  // ── Redis ──
  let redisUrl = config.REDIS_URL;
  if (!(await redisAnswers(redisUrl))) {
    const bin = process.env.REDIS_URL ? null : findRedisServer();
    if (!bin) {
      console.error(
        process.env.REDIS_URL
          ? `No Redis answers at ${redisUrl} (REDIS_URL). Start it, or unset REDIS_URL.`
          : 'No Redis answers on 127.0.0.1:6379 and no redis-server binary was found.\nInstall Redis >= 6.2 (e.g. apt-get install redis-server) or set REDIS_URL.',
      );
      await shutdown(1);
      return;
    }
    say(`no Redis on 127.0.0.1:6379; starting ${bin} under .data/redis …`);
    const redis = await startPrivateRedis(bin, dataDir, 63799);
    cleanups.push(async () => void redis.process.kill('SIGTERM'));
    redisUrl = redis.url;
  }

  const adminPassword = config.FLEETPLANE_ADMIN_PASSWORD ?? generatePassword();
  say('applying migrations…');
  const prepared = await prepareDatabase({
    databaseUrl,
    demo: config.FLEETPLANE_DEMO,
    adminEmail: config.FLEETPLANE_ADMIN_EMAIL,
    adminPassword,
  });
  if (prepared.appliedMigrations.length) say(`applied ${prepared.appliedMigrations.length} migration(s)`);
  if (prepared.seeded) say('seeded the demo fleet');
  if (config.FLEETPLANE_DEMO) {
    // Reference endpoints for the demo clusters, so validation runs have something real to measure.
    const demoEndpoints = await startDemoEndpoints();
    cleanups.push(() => demoEndpoints.close());
    say(`demo inference endpoints: ${demoEndpoints.endpoints.map((e) => `${e.cluster} ${e.url}`).join(', ') || 'none'}`);
    for (const s of demoEndpoints.skipped) say(`warning: demo endpoint for ${s.cluster} not started (port ${s.port}: ${s.reason})`);
  }

  // ── Build what is not built (Nx caches: an unchanged tree costs a few seconds) ──
  // The agent too: the demo agents run its bundle whenever one exists, so a stale one must not survive a change.
  if (process.env.FLEETPLANE_SKIP_BUILD !== '1' || !existsSync(path.join(root, 'apps/web/.next/BUILD_ID'))) {
    say('building (cached when nothing changed)…');
    const build = spawnSync(
      'npx',
      ['nx', 'run-many', '-t', 'build', '--projects=@fleetplane/web,@fleetplane/worker,@fleetplane/agent', '--output-style=static'],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NEXT_TELEMETRY_DISABLED: '1' },
      },
    );
    if (build.status !== 0) {
      console.error('Build failed; see the output above.');
      await shutdown(1);
      return;
    }
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    BETTER_AUTH_SECRET: config.BETTER_AUTH_SECRET ?? secrets.BETTER_AUTH_SECRET,
    FLEETPLANE_SECRET_KEY: config.FLEETPLANE_SECRET_KEY ?? secrets.FLEETPLANE_SECRET_KEY,
    HUB_WEBHOOK_SECRET: config.HUB_WEBHOOK_SECRET ?? secrets.HUB_WEBHOOK_SECRET,
    FLEETPLANE_PUBLIC_URL: publicUrl,
    PORT: String(config.PORT),
  };
  if (config.FLEETPLANE_DEMO) {
    // The demo's Hub (demo-hub.ts), a supervised child with webhooks to the web app; an explicit HF_ENDPOINT still wins.
    const demoHub = await startDemoHubProcess(group, { root, dataDir, webAppPort: config.PORT, webhookSecret: env.HUB_WEBHOOK_SECRET! });
    if (!process.env.HF_ENDPOINT) env.HF_ENDPOINT = demoHub.url;
    // The GGUF K-quant recipe runs the llama-quantize stand-in unless a real one is configured.
    if (!process.env.LLAMA_QUANTIZE_PATH) env.LLAMA_QUANTIZE_PATH = path.join(root, 'tools/fake-llama-quantize/bin/llama-quantize');
    env.FLEETPLANE_DEMO = 'true';
    if (demoHub.ready) say(`demo hub: ${demoHub.url} (dev panel on /models publishes new upstream revisions)`);
    else say(`warning: the demo hub did not answer on ${demoHub.url} within 30 s; it is restarted if it exits (see its log lines above)`);
  }
  group.start('web', process.execPath, [path.join(root, 'apps/web/server.mjs'), '-p', String(config.PORT), '-H', '0.0.0.0'], {
    env,
    cwd: path.join(root, 'apps/web'),
  });
  group.start('worker', process.execPath, [path.join(root, 'apps/worker/dist/worker.mjs')], { env });

  await waitForHttp(`http://127.0.0.1:${config.PORT}/api/health`, 60_000);
  if (config.FLEETPLANE_DEMO) {
    // Real agent processes with a stand-in nvidia-smi, one per seeded node: the fleet is alive on screen.
    const agents = await startDemoFleetAgents({
      root,
      dataDir,
      serverUrl: `http://127.0.0.1:${config.PORT}`,
      databaseUrl,
      group,
      env,
      say,
    });
    if (agents.started.length)
      say(
        `demo: ${agents.started.length} node agent(s) reporting (${agents.started.join(', ')}); their state is in ${path.relative(root, path.join(dataDir, 'agents'))}/`,
      );
    cleanups.push(startDemoTraffic(say));
    if (config.FLEETPLANE_DEMO_FLEET_NODES > 0) {
      const stopSimulated = await startDemoSimulatedFleet({
        dataDir,
        serverUrl: `http://127.0.0.1:${config.PORT}`,
        databaseUrl,
        nodes: config.FLEETPLANE_DEMO_FLEET_NODES,
        say,
      }).catch((err: unknown) => {
        say(`warning: the simulated fleet did not start: ${(err as Error).message}`);
        return async () => undefined;
      });
      cleanups.push(stopSimulated);
    }
  }
  const lines = [
    '',
    `Fleetplane is running at ${publicUrl}`,
    prepared.adminCreated
      ? `Sign in as ${config.FLEETPLANE_ADMIN_EMAIL} with password ${config.FLEETPLANE_ADMIN_PASSWORD ? '(from FLEETPLANE_ADMIN_PASSWORD)' : adminPassword}${config.FLEETPLANE_ADMIN_PASSWORD ? '' : '   <- shown once; change it or set FLEETPLANE_ADMIN_PASSWORD'}`
      : `Sign in as ${config.FLEETPLANE_ADMIN_EMAIL} (admin, existing password)`,
    config.FLEETPLANE_DEMO ? `Demo users (password "${DEMO_PASSWORD}"): ${DEMO_USERS.map((u) => `${u.email} (${u.role})`).join(', ')}` : '',
    'Press Ctrl-C to stop.',
    '',
  ];
  say(lines.filter((l) => l !== undefined).join('\n           '));
}

async function waitForHttp(url: string, timeoutMs: number) {
  if (!(await waitUntilUp(url, timeoutMs, 500))) say(`warning: ${url} did not answer within ${timeoutMs / 1000}s`);
}

function redact(url: string) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
