import { hostname as osHostname } from 'node:os';
import { ZHostname, type TAgentHostFacts } from '@fleetplane/contracts';
import { ConfigError } from '../config';
import { AGENT_VERSION } from '../version';
import type { NvidiaSmiCollector } from './nvidia-smi';

const REFRESH_MS = 5 * 60_000;
const RETRY_MS = 60_000;

/** The node's name as the server will show it: --hostname, else the OS hostname, which must be a DNS name. */
export function resolveHostname(override?: string): string {
  const name = override ?? osHostname();
  const parsed = ZHostname.safeParse(name);
  if (!parsed.success)
    throw new ConfigError(`The hostname "${name}" is not a valid DNS name (${parsed.error.issues[0]?.message}); pass --hostname`);
  return parsed.data;
}

/**
 * Hostname, agent, driver and CUDA versions. The versions cost two extra nvidia-smi calls, so they are
 * refreshed every few minutes (a driver upgrade needs a reboot anyway), and sooner while unknown.
 */
export class HostFactsCollector {
  private facts: TAgentHostFacts;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private complete = false;

  constructor(
    private readonly nvidia: Pick<NvidiaSmiCollector, 'versions'>,
    hostname: string,
  ) {
    this.facts = { hostname, agentVersion: AGENT_VERSION, driverVersion: null, cudaVersion: null };
  }

  async get(now: Date = new Date()): Promise<{ facts: TAgentHostFacts; error: string | null }> {
    const age = now.getTime() - this.fetchedAt;
    if (age < (this.complete ? REFRESH_MS : RETRY_MS)) return { facts: this.facts, error: null };
    this.fetchedAt = now.getTime();
    const { driverVersion, cudaVersion, error } = await this.nvidia.versions();
    // Keep the last known versions through a transient nvidia-smi failure.
    this.facts = {
      ...this.facts,
      driverVersion: driverVersion ?? this.facts.driverVersion,
      cudaVersion: cudaVersion ?? this.facts.cudaVersion,
    };
    this.complete = driverVersion !== null && cudaVersion !== null;
    return { facts: this.facts, error };
  }
}
