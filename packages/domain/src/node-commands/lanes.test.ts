import { NODE_COMMAND_KINDS } from '@fleetplane/contracts';
import { describe, expect, it } from 'vitest';
import { commandLane } from './lanes';

describe('command lanes', () => {
  it('engine-changing commands share one lane, cache commands the other', () => {
    expect(NODE_COMMAND_KINDS.filter((k) => commandLane(k) === 'engine')).toEqual(['load_artifact', 'restart_engine', 'stop_engine']);
    expect(NODE_COMMAND_KINDS.filter((k) => commandLane(k) === 'cache')).toEqual(['prefetch_artifact', 'evict_artifact']);
  });
});
