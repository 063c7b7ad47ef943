import { z } from 'zod';

// Slack's incoming-webhook body: `text` is required (it is the notification and the fallback for
// clients without blocks); `blocks` are Block Kit section/context blocks. Mattermost, Rocket.Chat and
// most "Slack-compatible" receivers read `text` and ignore what they do not know.
const ZTextObject = z.strictObject({ type: z.enum(['mrkdwn', 'plain_text']), text: z.string().min(1).max(3000) });

export const ZSlackBlock = z.union([
  z.strictObject({ type: z.literal('header'), text: z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(150) }) }),
  z.strictObject({ type: z.literal('section'), text: ZTextObject, fields: z.array(ZTextObject).max(10).optional() }),
  z.strictObject({ type: z.literal('context'), elements: z.array(ZTextObject).min(1).max(10) }),
]);

export const ZSlackMessage = z.strictObject({
  text: z.string().min(1).max(40_000),
  blocks: z.array(ZSlackBlock).max(50).optional(),
});
export type TSlackMessage = z.infer<typeof ZSlackMessage>;
