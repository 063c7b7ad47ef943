import { access, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentApiClient } from '../api/client';
import { resolveHostname } from '../collectors/host';
import { NvidiaSmiCollector } from '../collectors/nvidia-smi';
import { ConfigError, readStoredCredential, type TEnrollConfig, type TStoredCredential } from '../config';
import type { Logger } from '../logger';
import { writeFileAtomic } from '../queue/atomic-file';
import { AGENT_VERSION } from '../version';

/** The server said no, or could not be asked; the CLI prints the message and exits 1. */
export class EnrollError extends Error {
  override readonly name = 'EnrollError';
}

const STATUS_HINTS: Record<number, string> = {
  401: 'The join token was not accepted: it is unknown or was revoked. Ask an admin for a new join token.',
  403: 'The server refused to enroll this node with this join token. Ask an admin for a new join token.',
  409: 'The join token was already used (join tokens work once). Ask an admin for a new join token, or keep the credential of the node that used it.',
  410: 'The join token has expired. Ask an admin for a new join token.',
};

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.fleetplane-agent-probe-${process.pid}`);
    await (await open(probe, 'wx', 0o600)).close();
    await unlink(probe);
  } catch (err) {
    throw new ConfigError(
      `Cannot write the credential into ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Run as root or pass --credential-path.`,
    );
  }
}

/** `enroll`: trades a one-time join token for this node's credential and stores it (mode 0600). */
export async function enrollAgent(config: TEnrollConfig, deps: { logger: Logger }): Promise<TStoredCredential> {
  const { logger } = deps;
  const hostname = resolveHostname(config.hostname);
  if (
    !config.force &&
    (await access(config.credentialPath).then(
      () => true,
      () => false,
    ))
  ) {
    const existing = await readStoredCredential(config.credentialPath).catch(() => null);
    throw new ConfigError(
      `This node is already enrolled${existing ? ` as node ${existing.credential.nodeId}` : ''} (credential at ${config.credentialPath}). Pass --force to enroll it again with a new token.`,
    );
  }
  // Spend the one-time token only if the credential can be stored afterwards.
  await ensureWritableDir(dirname(config.credentialPath));
  // Versions are nice to have at enrollment; a node may be enrolled before its driver is installed.
  const versions = await new NvidiaSmiCollector(config.nvidiaSmi).versions();
  if (versions.error) logger.warn({ source: 'nvidia-smi' }, `enrolling without driver/CUDA versions: ${versions.error}`);

  const client = new AgentApiClient({ server: config.server });
  const result = await client.enroll({
    joinToken: config.token,
    hostname,
    agentVersion: AGENT_VERSION,
    driverVersion: versions.driverVersion,
    cudaVersion: versions.cudaVersion,
  });
  if (result.kind === 'retry')
    throw new EnrollError(`Enrollment failed, nothing was written: ${result.message}. Check --server and try again.`);
  if (result.kind !== 'ok') {
    const hint = STATUS_HINTS[result.status] ?? `The server refused the enrollment (HTTP ${result.status}).`;
    const issues =
      result.kind === 'rejected' && result.issues.length > 0
        ? ` Problems: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`
        : '';
    throw new EnrollError(`${hint} Server said: ${result.message}.${issues}`);
  }
  const stored: TStoredCredential = {
    server: config.server,
    nodeId: result.body.nodeId,
    clusterId: result.body.clusterId,
    credential: result.body.credential,
    reportIntervalSeconds: result.body.reportIntervalSeconds,
  };
  try {
    await writeFileAtomic(config.credentialPath, `${JSON.stringify(stored, null, 2)}\n`, 0o600);
  } catch (err) {
    // The token is spent at this point: say so, and print what an operator needs to recover.
    throw new EnrollError(
      `Enrolled as node ${stored.nodeId}, but the credential could not be written to ${config.credentialPath}: ${(err as Error).message}. ` +
        `The join token is now used; fix the path (or pass --credential-path) and ask an admin for a new token.`,
    );
  }
  logger.info({ nodeId: stored.nodeId, clusterId: stored.clusterId, credentialPath: config.credentialPath }, 'enrolled');
  return stored;
}
