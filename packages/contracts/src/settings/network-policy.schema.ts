import { z } from 'zod';

/**
 * The admin setting of the outgoing-request network policy (setting key `network_policy`). Link-local
 * and cloud-metadata addresses are refused whatever it says; it only decides whether loopback and the
 * control plane's own Postgres and Redis may be reached (the demo and tests run their Hub, endpoints
 * and webhooks on loopback).
 */
export const ZNetworkPolicySetting = z.object({
  allowLoopback: z.boolean(),
});
export type TNetworkPolicySetting = z.infer<typeof ZNetworkPolicySetting>;

export const ZUpdateNetworkPolicyInput = ZNetworkPolicySetting;
export type TUpdateNetworkPolicyInput = z.infer<typeof ZUpdateNetworkPolicyInput>;
