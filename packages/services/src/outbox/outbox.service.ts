import type { Db, PrismaClient } from '@fleetplane/db';
import type { JobDefinition } from '@fleetplane/contracts';
import type { JobProducer } from '@fleetplane/queue';
import type { z } from 'zod';

/**
 * Records a job to run once the surrounding transaction commits. The row and the business change
 * commit together; `dispatchOutbox` (called right after commit and by a repeatable sweeper) moves
 * it to BullMQ, so a Redis outage at commit time delays the job instead of losing it.
 */
export async function addToOutbox<TName extends string, TSchema extends z.ZodType>(
  tx: Db,
  def: JobDefinition<TName, TSchema>,
  payload: z.input<TSchema>,
  jobId: string,
) {
  const data = def.schema.parse(payload);
  await tx.outboxMessage.upsert({
    where: { queue_jobId: { queue: def.queue, jobId } },
    create: { queue: def.queue, jobName: def.name, jobId, payload: data as object },
    update: {},
  });
}

export async function dispatchOutbox(prisma: PrismaClient, producer: JobProducer, limit = 100) {
  const pending = await prisma.outboxMessage.findMany({ where: { dispatchedAt: null }, orderBy: { createdAt: 'asc' }, take: limit });
  let dispatched = 0;
  for (const msg of pending) {
    try {
      // jobId makes this idempotent: a row dispatched twice (crash between add and update) is one job.
      await producer.queue(msg.queue as Parameters<JobProducer['queue']>[0]).add(msg.jobName, msg.payload, { jobId: msg.jobId });
      await prisma.outboxMessage.update({ where: { id: msg.id }, data: { dispatchedAt: new Date(), attempts: { increment: 1 } } });
      dispatched += 1;
    } catch (e) {
      await prisma.outboxMessage.update({
        where: { id: msg.id },
        data: { attempts: { increment: 1 }, lastError: (e as Error).message.slice(0, 500) },
      });
    }
  }
  return { dispatched, pending: pending.length - dispatched };
}
