import { describe, expect, it } from 'vitest';
import { Admission } from './admission';

describe('Admission', () => {
  it('admits up to the limit, queues the rest in order, and refuses past the queue bound', async () => {
    const a = new Admission(2, 2);
    const r1 = await a.enter();
    const r2 = await a.enter();
    const order: number[] = [];
    const w3 = a.enter().then((r) => (order.push(3), r));
    const w4 = a.enter().then((r) => (order.push(4), r));
    await Promise.resolve();
    expect(a.queued).toBe(2);
    expect(await a.enter()).toBeNull();
    r1!();
    r1!(); // releasing twice frees one slot only
    const r3 = await w3;
    expect(order).toEqual([3]);
    r2!();
    const r4 = await w4;
    expect(order).toEqual([3, 4]);
    expect(a.queued).toBe(0);
    r3!();
    r4!();
    // Everything released: two fresh entries are admitted at once.
    expect(await a.enter()).not.toBeNull();
    expect(await a.enter()).not.toBeNull();
  });
});
