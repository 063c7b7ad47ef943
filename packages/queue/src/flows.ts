import { FlowProducer, type FlowJob, type JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { JobDefinition } from '@fleetplane/contracts';
import { InvalidJobPayloadError, type JobProducer } from './producer';

/** One job of a flow: its definition and payload (validated like JobProducer.enqueue) plus BullMQ options. */
export interface FlowNode {
  def: JobDefinition<string, z.ZodType>;
  payload: unknown;
  opts: JobsOptions & { jobId: string };
  children?: FlowNode[];
}

function toFlowJob(node: FlowNode): FlowJob {
  const parsed = node.def.schema.safeParse(node.payload);
  if (!parsed.success)
    throw new InvalidJobPayloadError(node.def.name, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return {
    name: node.def.name,
    queueName: node.def.queue,
    data: parsed.data,
    opts: { ...(node.def.attempts ? { attempts: node.def.attempts } : {}), ...node.opts },
    ...(node.children?.length ? { children: node.children.map(toFlowJob) } : {}),
  };
}

/**
 * The one way flows (a parent job that runs after its children) are added: pipeline stages and validation runs.
 * One FlowProducer per JobProducer, opened on first use and closed with close(). Adding a flow whose parent job id
 * already exists is a no-op (a re-sent start message must not run a stage twice).
 */
export class JobFlows {
  private flow: FlowProducer | undefined;

  constructor(private readonly producer: JobProducer) {}

  async add(root: FlowNode): Promise<boolean> {
    const job = toFlowJob(root);
    const queue = this.producer.queue(root.def.queue);
    if (await queue.getJob(root.opts.jobId)) return false;
    if (!this.flow) {
      this.flow = new FlowProducer({ connection: queue.opts.connection, prefix: this.producer.prefix });
      this.flow.on('error', () => undefined);
    }
    await this.flow.add(job);
    return true;
  }

  async close(): Promise<void> {
    const f = this.flow;
    this.flow = undefined;
    await f?.close();
  }
}
