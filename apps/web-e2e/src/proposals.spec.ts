import { OPERATOR } from './fixtures/accounts';
import { approveBySecondPerson, proposeOnFreshEvidence } from './fixtures/proposal-flow';
import { expect, signIn, test } from './fixtures/test';

// Separation of duties on screen: an operator proposes an upgrade on a passing validation run, cannot
// approve it themselves (the buttons say why), and an approver approves it on the evidence shown.
test('an operator proposes an upgrade, cannot approve it, and an approver approves it', async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, OPERATOR);

  // The evidence: a smoke run against flash-h100-vllm (run-e2e.ts points it at a fast reference endpoint).
  const proposalUrl = await proposeOnFreshEvidence(page, 'flash-h100-vllm', { reason: 'Re-validated on the current engine build' });
  await expect(page.getByTestId('proposal-status').getByTestId('proposal-state')).toHaveText('pending approval');
  await expect(page.getByTestId('evidence-digest')).toHaveText(/^sha256:[0-9a-f]{64}$/);
  await expect(page.getByTestId('validation-evidence')).toContainText('smoke v');
  await expect(page.getByTestId('compatibility')).toContainText('Compatible');
  await expect(page.getByTestId('approval-count')).toHaveText('0 of 1 required');

  // The list shows it as open, with no valid approval yet.
  await page.goto('/proposals');
  await expect(page.getByTestId('proposals-table').getByTestId('proposal-state').first()).toHaveText('pending approval');

  // The requester cannot decide (both buttons disabled, saying why); a second person approves.
  await page.goto(proposalUrl);
  await approveBySecondPerson(page, proposalUrl, 'Evidence checked');
  await expect(page.getByTestId('approval-count')).toHaveText('1 of 1 required');
  await expect(page.getByTestId('approvals-table')).toContainText('Evidence checked');
});
