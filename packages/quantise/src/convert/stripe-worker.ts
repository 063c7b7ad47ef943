// Worker-thread entry: converts stripes sent by WorkerPoolStripeRunner (stripe-runner.ts). Results are copied into
// buffers of their own and transferred, so the scratch memory reused here never leaves this thread.
import { parentPort } from 'node:worker_threads';
import { loadKernel } from './kernel';
import { Scratch } from './source';
import { convertStripe, type StripeJob } from './stripe';

export interface StripeRequest {
  id: number;
  job: StripeJob;
}

const port = parentPort;
if (!port) throw new Error('stripe-worker.ts runs as a worker thread only');
const scratch = new Scratch();
// The kernel is ready before the first stripe is taken (messages wait in the port until the listener is attached).
await loadKernel();
port.on('message', ({ id, job }: StripeRequest) => {
  try {
    const r = convertStripe(job, scratch);
    const main = r.main.slice();
    const side = r.side.map((b) => b.slice());
    port.postMessage({ id, result: { main, side, sums: r.sums } }, [main.buffer, ...side.map((b) => b.buffer)]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ id, error: { message: err.message, stack: err.stack } });
  }
});
