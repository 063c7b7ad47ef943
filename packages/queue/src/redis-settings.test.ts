import { describe, expect, it } from 'vitest';
import { parseRedisInfo, redisSettingsWarnings } from './redis-settings';

describe('redisSettingsWarnings', () => {
  it('is quiet for what BullMQ needs: append-only file and noeviction', () => {
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '', maxmemoryPolicy: 'noeviction' })).toEqual([]);
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '3600 1', maxmemoryPolicy: 'noeviction' })).toEqual([]);
  });

  it('warns when a restart loses everything, or the jobs since the last snapshot', () => {
    expect(redisSettingsWarnings({ appendonly: 'no', save: '', maxmemoryPolicy: 'noeviction' })).toEqual([
      expect.stringMatching(/persists nothing/),
    ]);
    expect(redisSettingsWarnings({ appendonly: 'no', save: '3600 1 300 100', maxmemoryPolicy: 'noeviction' })).toEqual([
      expect.stringMatching(/RDB snapshots only/),
    ]);
  });

  it('warns about any eviction policy but noeviction', () => {
    expect(redisSettingsWarnings({ appendonly: 'yes', save: '', maxmemoryPolicy: 'allkeys-lru' })).toEqual([
      expect.stringMatching(/maxmemory-policy is allkeys-lru/),
    ]);
  });

  it('says nothing about what it could not read', () => {
    expect(redisSettingsWarnings({ appendonly: null, save: null, maxmemoryPolicy: null })).toEqual([]);
  });
});

describe('parseRedisInfo', () => {
  it('reads key:value lines and skips section headers', () => {
    expect(parseRedisInfo('# Server\r\nredis_version:7.2.4\r\naof_enabled:1\r\n')).toEqual(
      new Map([
        ['redis_version', '7.2.4'],
        ['aof_enabled', '1'],
      ]),
    );
  });
});
