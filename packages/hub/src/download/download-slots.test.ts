import { describe, expect, it } from 'vitest';
import { DownloadSlots } from './download-slots';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('DownloadSlots', () => {
  it('admits at most capacity at once, first come first served, and follows capacity changes', async () => {
    const slots = new DownloadSlots(2);
    const order: number[] = [];
    const releases: Array<() => void> = [];
    for (let i = 0; i < 5; i++) void slots.acquire().then((r) => (order.push(i), releases.push(r)));
    await tick();
    expect(order).toEqual([0, 1]);
    releases[0]!();
    releases[0]!(); // releasing twice frees one slot only
    await tick();
    expect(order).toEqual([0, 1, 2]);
    expect(slots.inUse).toBe(2);
    slots.setCapacity(4);
    await tick();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(slots.peakInUse).toBe(4);
    expect(() => slots.setCapacity(0)).toThrow(/positive/);
  });

  it('drops a waiter whose signal aborts', async () => {
    const slots = new DownloadSlots(1);
    const first = await slots.acquire();
    const ac = new AbortController();
    const waiting = slots.acquire(ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    first();
    const again = await slots.acquire();
    expect(slots.inUse).toBe(1);
    again();
    expect(slots.inUse).toBe(0);
  });
});
