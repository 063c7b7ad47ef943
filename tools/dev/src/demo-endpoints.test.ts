import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoEndpoints, type DemoEndpoints } from './demo-endpoints';
import { DEMO_CLUSTERS } from './seed-demo-fleet';

let demo: DemoEndpoints;
beforeAll(async () => {
  demo = await startDemoEndpoints();
});
afterAll(() => demo?.close());

describe('demo endpoints', () => {
  it('serves each demo cluster on its seeded port with its served model', async () => {
    expect(demo.endpoints.length + demo.skipped.length).toBe(DEMO_CLUSTERS.length);
    for (const e of demo.endpoints) {
      const c = DEMO_CLUSTERS.find((x) => x.name === e.cluster)!;
      expect(e.url).toBe(`http://127.0.0.1:${c.endpointPort}`);
      const models = (await (await fetch(`${e.url}/v1/models`)).json()) as { data: { id: string; max_model_len: number }[] };
      expect(models.data[0]).toMatchObject({ id: c.servedModelName, max_model_len: c.maxContextTokens });
    }
  });
});
