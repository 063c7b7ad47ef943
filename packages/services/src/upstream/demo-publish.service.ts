import { loadConfig } from '@fleetplane/config';
import { ZPublishDemoRevisionInput, type TPublishDemoRevisionInput } from '@fleetplane/contracts';
import { createGuardedFetch, findNetworkPolicyError } from '@fleetplane/net';
import { withAudit, type ServiceContext } from '../context';
import { loadNetworkPolicy } from '../network/network-policy.service';
import { notFound, precondition } from '../errors';
import { enqueueRepoCheck } from './tracked-repos.service';
import { upstreamSettingsFromEnv, type UpstreamSettings } from '../shared/upstream-settings';

export function demoPanelEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return loadConfig(env).FLEETPLANE_DEMO;
}

/**
 * Dev panel (demo mode only): asks the demo fake Hub to publish a new commit of a kind (weights,
 * tokenizer, docs) to a tracked repo, then queues a check so the revision shows up even without webhooks.
 */
export async function publishDemoRevision(
  ctx: ServiceContext,
  input: TPublishDemoRevisionInput,
  opts: { settings?: UpstreamSettings; demo?: boolean } = {},
) {
  const { trackedRepoId, kind } = ZPublishDemoRevisionInput.parse(input);
  if (!(opts.demo ?? demoPanelEnabled())) throw precondition('The dev panel is only available when FLEETPLANE_DEMO is true');
  const settings = opts.settings ?? upstreamSettingsFromEnv();
  const repo = await ctx.prisma.trackedRepo.findUnique({ where: { id: trackedRepoId } });
  if (!repo) throw notFound('Tracked repo', trackedRepoId);
  const hubUrl = (repo.hubEndpoint ?? settings.defaultHubUrl).replace(/\/+$/, '');
  const [owner, name] = repo.hubRepoId.split('/') as [string, string];
  // The repo's Hub URL is an operator's word like any other: the demo hub is reached under the policy too.
  const guardedFetch = createGuardedFetch({ policy: await loadNetworkPolicy(ctx.prisma) });
  let res: Response;
  try {
    res = await guardedFetch(`${hubUrl}/_fake/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/publish-demo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind, branch: repo.branch }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    const refused = findNetworkPolicyError(e);
    if (refused) throw precondition(`The demo hub at ${hubUrl} was ${refused.message}`);
    throw precondition(
      `The demo hub at ${hubUrl} is not reachable (${(e as Error).message}); is npm start running with FLEETPLANE_DEMO=true?`,
    );
  }
  const body = (await res.json().catch(() => null)) as { sha?: string; title?: string; error?: string } | null;
  if (!res.ok || !body?.sha) throw precondition(`The demo hub refused to publish (${res.status}): ${body?.error ?? 'no details'}`);
  const published = { sha: body.sha, title: body.title ?? '' };
  await withAudit(ctx, (_tx, audit) =>
    audit({ action: 'demo.publish_revision', targetType: 'tracked_repo', targetId: repo.id, after: { kind, ...published } }),
  );
  await enqueueRepoCheck(ctx.producer, repo.id, 'manual').catch(() => undefined);
  return published;
}
