import { OPERATOR } from './fixtures/accounts';
import { approveBySecondPerson, proposeOnFreshEvidence, startRollout } from './fixtures/proposal-flow';
import { expect, signIn, test } from './fixtures/test';

// From a second person's approval to a rollout on screen. The harness runs no agent on flash-h100-vllm's
// node, so its prefetch can never finish: the rollout must fail safely, roll back without touching an
// engine, and say why; the rollout and the proposal link to each other.
test('an approved proposal is rolled out by an operator; the rollout page shows its progress and outcome', async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page, OPERATOR);
  const proposalUrl = await proposeOnFreshEvidence(page, 'flash-h100-vllm');
  // Not approved yet: no Roll out action, and the requester cannot approve; the second person approves on the evidence.
  await approveBySecondPerson(page, proposalUrl);

  // The operator rolls it out from the proposal page.
  const rolloutUrl = await startRollout(page);

  // Progress: the stage view lists the cluster's node under the canary, the state badge is live.
  await expect(page.getByTestId('stage-view').getByTestId('rollout-node-h100-node-01')).toBeVisible();
  await expect(page.getByRole('link', { name: proposalUrl.split('/').pop()! })).toHaveAttribute('href', new URL(proposalUrl).pathname);

  // No agent answers for the node, so the prefetch fails and the rollout rolls back before any engine is touched.
  await expect(page.getByTestId('rollout-state').first()).toHaveText('rolled back', { timeout: 60_000 });
  await expect(page.getByTestId('rollout-reason')).toContainText('prefetch failed, no engine was touched');
  await expect(page.getByTestId('rollout-reason')).toContainText('h100-node-01');

  // Back on the proposal: it is still approved (nothing was rolled out) and links to this rollout.
  await page.getByRole('link', { name: proposalUrl.split('/').pop()! }).click();
  await expect(page).toHaveURL(proposalUrl);
  await expect(page.getByTestId('proposal-status').getByTestId('proposal-state')).toHaveText('approved');
  const rollouts = page.getByTestId('proposal-rollouts');
  await expect(rollouts.getByTestId('rollout-state').first()).toHaveText('rolled back');
  await expect(rollouts.getByRole('link').first()).toHaveAttribute('href', new URL(rolloutUrl).pathname);
});
