import { z } from 'zod';
import { ZId } from '../common/pagination';
import { ZHostname } from '../inventory/node.schema';

/** Versions as tools print them: `590.48.01`, `12.4`, `0.1.0-rc.1`. */
export const ZAgentVersionString = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/, 'Use a version such as 550.54.15 or 12.4');

export const ZAgentJoinToken = z
  .string()
  .min(8, 'Join token is too short')
  .max(512, 'Join token is too long')
  .regex(/^\S+$/, 'Join tokens contain no whitespace');
export const ZAgentCredential = z
  .string()
  .min(16)
  .max(512)
  .regex(/^[\x21-\x7E]+$/, 'Credentials are printable ASCII without spaces');

export const ZEnrollRequest = z.strictObject({
  joinToken: ZAgentJoinToken,
  hostname: ZHostname,
  agentVersion: ZAgentVersionString,
  driverVersion: ZAgentVersionString.nullable(),
  cudaVersion: ZAgentVersionString.nullable(),
});
export type TEnrollRequest = z.infer<typeof ZEnrollRequest>;

/** 201 body. The credential is shown once: the server keeps only its hash. */
export const ZEnrollResponse = z.strictObject({
  nodeId: ZId,
  clusterId: ZId,
  credential: ZAgentCredential,
  reportIntervalSeconds: z.number().int().min(1).max(3600),
});
export type TEnrollResponse = z.infer<typeof ZEnrollResponse>;
