/** Any client that sends a raw command (an ioredis connection has `call`). */
export interface RedisCommandClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** What BullMQ needs from Redis to keep jobs: persistence and no eviction of keys. */
export interface RedisSettings {
  /** `appendonly` (yes/no), or null when unknown. */
  appendonly: string | null;
  /** `save` (RDB snapshot rules; '' = off), or null when unknown. */
  save: string | null;
  /** `maxmemory-policy`, or null when unknown. */
  maxmemoryPolicy: string | null;
}

/**
 * Warnings for settings that lose jobs: without persistence a restart empties every queue and job
 * scheduler; any eviction policy but noeviction lets Redis delete job keys under memory pressure.
 * Unknown values (a managed Redis that hides them) give no warning.
 */
export function redisSettingsWarnings(s: RedisSettings): string[] {
  const warnings: string[] = [];
  const aofOff = s.appendonly !== null && s.appendonly !== 'yes';
  const rdbOff = s.save !== null && s.save.trim() === '';
  if (aofOff && rdbOff) {
    warnings.push(
      'Redis persists nothing (appendonly no, save ""): a restart loses every queued job and job scheduler. Set appendonly yes (see docs/operations.md).',
    );
  } else if (aofOff) {
    warnings.push(
      'Redis uses RDB snapshots only (appendonly no): a restart loses the jobs since the last snapshot. Set appendonly yes (see docs/operations.md).',
    );
  }
  if (s.maxmemoryPolicy !== null && s.maxmemoryPolicy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${s.maxmemoryPolicy}: under memory pressure it deletes job keys. BullMQ needs maxmemory-policy noeviction (see docs/operations.md).`,
    );
  }
  return warnings;
}

/** Parses `INFO` text (`key:value` lines) into a map. */
export function parseRedisInfo(info: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/**
 * Reads the settings with CONFIG GET, or from INFO where CONFIG is refused (managed Redis renames or
 * blocks it); what neither tells stays null.
 */
export async function readRedisSettings(client: RedisCommandClient): Promise<RedisSettings> {
  const config = async (name: string): Promise<string | null> => {
    try {
      const reply = (await client.call('CONFIG', 'GET', name)) as string[];
      return reply.length >= 2 ? String(reply[1]) : null;
    } catch {
      return null;
    }
  };
  const settings: RedisSettings = {
    appendonly: await config('appendonly'),
    save: await config('save'),
    maxmemoryPolicy: await config('maxmemory-policy'),
  };
  if (settings.appendonly === null || settings.maxmemoryPolicy === null) {
    try {
      const info = parseRedisInfo(String(await client.call('INFO', 'persistence')) + '\n' + String(await client.call('INFO', 'memory')));
      if (settings.appendonly === null && info.has('aof_enabled')) settings.appendonly = info.get('aof_enabled') === '1' ? 'yes' : 'no';
      if (settings.maxmemoryPolicy === null && info.has('maxmemory_policy')) settings.maxmemoryPolicy = info.get('maxmemory_policy')!;
    } catch {
      // INFO refused as well: nothing to judge.
    }
  }
  return settings;
}
