export { startFakeHub, type FakeHub, type FakeHubOptions, type RepoSummary } from './hub';
export { demoRepos, ggufFile } from './demo-repos';
export type { TRepoSeed, TCommitInput, TFaults, TFileContent, TPublishDemoKind } from './schemas';
export type { RequestLogEntry } from './server/http-utils';
export type { WebhookDelivery, WebhookConfig } from './webhook';
export { gitBlobOid, lfsPointer, sha256Hex } from './git-hash';
export { buildSafetensors, parseSafetensorsHeader } from './content/safetensors';
export { buildGguf, readGgufLayout } from './content/gguf';
export { prngChunks } from './content/prng';
