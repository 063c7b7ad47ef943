import { describe, expect, it } from 'vitest';
import { parseRedisInfo, readRedisSettings, redisSettingsWarnings } from './redis-settings';

describe('redisSettingsWarnings', () => {
  it('is quiet for what BullMQ needs: append-only file and noeviction', () => {
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '', maxmemoryPolicy: 'noeviction' })).toEqual([]);
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '3600 1', maxmemoryPolicy: 'noeviction' })).toEqual([]);
  });

  it('warns when a restart loses everything, or the jobs since the last snapshot', () => {
    expect(redisSettingsWarnings({ appendonly: 'no', save: '', maxmemoryPolicy: 'noeviction' })).toEqual([expect.stringMatching(/persists nothing/)]);
    expect(redisSettingsWarnings({ appendonly: 'no', save: '3600 1 300 100', maxmemoryPolicy: 'noeviction' })).toEqual([expect.stringMatching(/RDB snapshots only/)]);
  });

  it('warns about any eviction policy but noeviction', () => {
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '', maxmemoryPolicy: 'allkeys-lru' })).toEqual([expect.stringMatching(/maxmemory-policy is allkeys-lru/)]);
  });

  it('says nothing about what it could not read', () => {
    expect(redisSettingsWarnings({ appendonly: null, save: null, maxmemoryPolicy: null })).toEqual([]);
  });
});

describe('readRedisSettings', () => {
  it('falls back to INFO when CONFIG is refused (managed Redis)', async () => {
    const info = '# Persistence\r\nloading:0\r\naof_enabled:0\r\n# Memory\r\nmaxmemory_policy:volatile-lru\r\n';
    const client = {
      call: async (command: string) => {
        if (command === 'CONFIG') throw new Error("ERR unknown command 'CONFIG'");
        return info;
      },
    };
    expect(await readRedisSettings(client)).toEqual({ appendonly: 'no', save: null, maxmemoryPolicy: 'volatile-lru' });
  });

  it('reads CONFIG GET replies', async () => {
    const values: Record<string, string> = { appendonly: 'yes', save: '', 'maxmemory-policy': 'noeviction' };
    const client = { call: async (_c: string, _sub: string, name: string) => [name, values[name]!] };
    expect(await readRedisSettings(client as never)).toEqual({ appendonly: 'yes', save: '', maxmemoryPolicy: 'noeviction' });
  });

  it('parses INFO lines', () => {
    expect(parseRedisInfo('# Server\r\nredis_version:7.2.4\r\naof_enabled:1\r\n')).toEqual(new Map([['redis_version', '7.2.4'], ['aof_enabled', '1']]));
  });
});
