import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProcessGroup, restartDelayMs, type RestartPolicy } from './process-group';

// Real child processes (node itself), killed for real: the launcher's supervision is what is tested.
const FAST: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 400, healthyAfterMs: 60_000 };
const LONG_RUNNING = ['-e', 'setInterval(() => {}, 1000)'];

// Polling waits use vitest's own expect.poll / vi.waitFor (20 ms steps: restarts here are 100–400 ms apart).
const POLL = { timeout: 10_000, interval: 20 };

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let group: ProcessGroup | undefined;
afterEach(async () => {
  await group?.stopAll(2_000);
  group = undefined;
});

describe('restartDelayMs', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const policy: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => restartDelayMs(n, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect(restartDelayMs(0, policy)).toBe(1_000);
  });
});

describe('ProcessGroup supervision (real child processes)', () => {
  it('restarts a child that was killed, says so, and leaves its siblings running', async () => {
    group = new ProcessGroup(FAST);
    const said: string[] = [];
    group.onRestart = (name, exit, delayMs, restart) => said.push(`${name} ${exit} ${delayMs} #${restart}`);
    const worker = group.start('worker', process.execPath, LONG_RUNNING);
    const web = group.start('web', process.execPath, LONG_RUNNING);
    await expect.poll(() => Boolean(worker.pid && web.pid), POLL).toBe(true);
    const firstPid = worker.pid!;

    process.kill(firstPid, 'SIGKILL');
    const restarted = await vi.waitFor(() => {
      const now = group!.current('worker');
      if (!now?.pid || now.pid === firstPid) throw new Error('the worker has not been restarted yet');
      return now;
    }, POLL);
    expect(said).toEqual(['worker signal SIGKILL 100 #1']);
    expect(isAlive(restarted.pid!)).toBe(true);
    expect(group.current('web')!.pid).toBe(web.pid);
    expect(isAlive(web.pid!)).toBe(true);
    expect(group.restartCount('web')).toBe(0);
  });

  it('backs off when a child keeps dying at once', async () => {
    group = new ProcessGroup(FAST);
    const delays: number[] = [];
    group.onRestart = (_name, exit, delayMs) => {
      expect(exit).toBe('code 3');
      delays.push(delayMs);
    };
    group.start('agent:a', process.execPath, ['-e', 'process.exit(3)']);
    await expect.poll(() => delays.length, POLL).toBeGreaterThanOrEqual(4);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 400]);
  });

  it('stopAll stops every child and restarts none, also one waiting for its restart', async () => {
    group = new ProcessGroup({ ...FAST, initialDelayMs: 300 });
    let restarts = 0;
    group.onRestart = () => (restarts += 1);
    const a = group.start('a', process.execPath, LONG_RUNNING);
    const b = group.start('b', process.execPath, LONG_RUNNING);
    await expect.poll(() => Boolean(a.pid && b.pid), POLL).toBe(true);
    process.kill(b.pid!, 'SIGKILL');
    await expect.poll(() => restarts, POLL).toBe(1);
    await group.stopAll(2_000);
    expect(isAlive(a.pid!)).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    // The pending restart of b was cancelled: its process is still the dead one.
    expect(group.current('b')!.pid).toBe(b.pid);
    expect(restarts).toBe(1);
  });

  it('keeps trying a command that cannot be started, without throwing', async () => {
    group = new ProcessGroup(FAST);
    const exits: string[] = [];
    group.onRestart = (_name, exit) => exits.push(exit);
    group.start('missing', '/nonexistent/fleetplane-binary', []);
    await expect.poll(() => exits.length, POLL).toBeGreaterThanOrEqual(2);
  });
});
