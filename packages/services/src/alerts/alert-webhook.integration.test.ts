// Webhook delivery against a real local HTTP receiver: Slack-shaped body, retryable vs permanent
// failures, and an `opened` notification delivered once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowLoopbackForTests } from '../network/testing';
import { ZSlackMessage } from '@fleetplane/contracts';
import { testDeps, unique } from '../telemetry/test-support';
import { buildAlertMessage, PermanentWebhookError, sendAlertNotification } from './alert-webhook.service';

const { prisma, pool } = testDeps();
let server: Server;
let url: string;
const received: unknown[] = [];
let replies: number[] = [];

beforeAll(async () => {
  // The fake Hub / webhook receiver listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: JSON.parse(body) as unknown });
      res.statusCode = replies.shift() ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'invalid_payload');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXX`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await prisma.$disconnect();
  await pool.end();
});

async function alert() {
  const fingerprint = `gpu:${unique('GPU')}:ecc_uncorrected`;
  return prisma.alert.create({
    data: {
      fingerprint,
      activeKey: fingerprint,
      rule: 'ecc_uncorrected',
      severity: 'critical',
      title: 'h100-node-01 GPU 3: uncorrected ECC errors',
      details: { message: 'Uncorrected ECC errors since the driver loaded: 2 (> 0). Drain the GPU and reset it' },
    },
  });
}

describe('alert webhook', () => {
  it('builds a Slack-compatible message with text and blocks', () => {
    const msg = buildAlertMessage(
      {
        id: 'a1',
        title: 'h100-node-01 GPU 3: uncorrected ECC errors',
        severity: 'critical',
        state: 'open',
        rule: 'ecc_uncorrected',
        fingerprint: 'gpu:GPU-1:ecc_uncorrected',
        details: { message: '2 uncorrected' },
        openedAt: new Date('2026-11-22T10:00:00Z'),
        resolvedAt: null,
        cluster: { name: 'flash-h100-vllm' },
        node: { hostname: 'h100-node-01' },
      },
      'opened',
      'https://fleetplane.example.com/',
    );
    expect(ZSlackMessage.parse(msg)).toEqual(msg);
    expect(msg.text).toBe(
      ':rotating_light: [CRITICAL] h100-node-01 GPU 3: uncorrected ECC errors opened (cluster flash-h100-vllm, node h100-node-01): 2 uncorrected',
    );
    expect(JSON.stringify(msg.blocks)).toContain('<https://fleetplane.example.com/alerts|Open in Fleetplane>');
  });

  it('delivers once per opened alert and marks it notified', async () => {
    const a = await alert();
    received.length = 0;
    replies = [200];
    expect(await sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: url })).toEqual({
      delivered: true,
      status: 200,
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ contentType: 'application/json', body: { text: expect.stringContaining('[CRITICAL]') } });
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: a.id } })).notifiedAt).not.toBeNull();
    expect(await sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: url })).toEqual({
      delivered: false,
      reason: 'already delivered',
    });
    expect(received).toHaveLength(1);
  });

  it('throws a retryable error on 5xx/429/unreachable and a permanent one on other 4xx', async () => {
    const a = await alert();
    replies = [503];
    await expect(sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: url })).rejects.toThrow(
      /answered 503.*will retry/,
    );
    replies = [429];
    await expect(sendAlertNotification(prisma, { alertId: a.id, transition: 'resolved' }, { webhookUrl: url })).rejects.not.toBeInstanceOf(
      PermanentWebhookError,
    );
    replies = [404];
    await expect(sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: url })).rejects.toBeInstanceOf(
      PermanentWebhookError,
    );
    await expect(
      sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: 'http://127.0.0.1:9/hook', timeoutMs: 2000 }),
    ).rejects.toThrow(/unreachable/);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: a.id } })).notifiedAt).toBeNull();
  });

  it('sends nothing to a webhook the network policy refuses, and fails the delivery for good with the rule', async () => {
    const a = await alert();
    const before = received.length;
    await allowLoopbackForTests(prisma, false);
    try {
      const err = await sendAlertNotification(prisma, { alertId: a.id, transition: 'opened' }, { webhookUrl: url }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PermanentWebhookError);
      expect((err as Error).message).toMatch(/^Alert webhook refused by network policy: 127\.0\.0\.1 is a loopback address/);
    } finally {
      await allowLoopbackForTests(prisma);
    }
    // Metadata addresses are refused even with loopback allowed; the name resolves loopback first, so a
    // connection made in spite of the refusal would reach this receiver and show.
    const port = new URL(url).port;
    const metadata = await sendAlertNotification(
      prisma,
      { alertId: a.id, transition: 'opened' },
      {
        webhookUrl: `http://hooks.test:${port}/x`,
        resolve: async () => [
          { address: '127.0.0.1', family: 4 },
          { address: '169.254.169.254', family: 4 },
        ],
      },
    ).catch((e: unknown) => e);
    expect(metadata).toBeInstanceOf(PermanentWebhookError);
    expect((metadata as Error).message).toContain('169.254.169.254 is a link-local address');
    expect(received).toHaveLength(before);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: a.id } })).notifiedAt).toBeNull();
  });
});
