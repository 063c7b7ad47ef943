import { describe, expect, it } from 'vitest';
import { decideArtifactAccess, type ArtifactAccessFacts } from './artifact-access';

const node = { id: 'n1', clusterId: 'c1' };
const none: ArtifactAccessFacts = { node, artifact: { id: 'a1' }, deployments: [], commands: [], proposals: [] };

describe('decideArtifactAccess', () => {
  it('refuses an artifact that does not exist', () => {
    expect(decideArtifactAccess({ ...none, artifact: null })).toEqual({ allowed: false, reason: 'no_artifact' });
  });

  it('refuses an artifact the node has no reason to hold', () => {
    expect(decideArtifactAccess(none)).toEqual({ allowed: false, reason: 'not_for_this_node' });
  });

  it("allows the node's cluster's live deployments, cluster-wide or for this node", () => {
    for (const state of ['pending', 'rolling_out', 'active'])
      expect(decideArtifactAccess({ ...none, deployments: [{ clusterId: 'c1', nodeId: null, state }] })).toEqual({
        allowed: true,
        reason: 'deployment',
      });
    expect(decideArtifactAccess({ ...none, deployments: [{ clusterId: 'c1', nodeId: 'n1', state: 'active' }] }).allowed).toBe(true);
  });

  it("refuses another cluster's deployment, another node's node deployment and finished deployments", () => {
    expect(decideArtifactAccess({ ...none, deployments: [{ clusterId: 'c2', nodeId: null, state: 'active' }] }).allowed).toBe(false);
    expect(decideArtifactAccess({ ...none, deployments: [{ clusterId: 'c1', nodeId: 'n2', state: 'active' }] }).allowed).toBe(false);
    for (const state of ['rolled_back', 'retired', 'failed'])
      expect(decideArtifactAccess({ ...none, deployments: [{ clusterId: 'c1', nodeId: null, state }] }).allowed).toBe(false);
  });

  it('allows an open command for this node that references the artifact, not a finished one or another node', () => {
    for (const state of ['queued', 'delivered', 'running'])
      expect(decideArtifactAccess({ ...none, commands: [{ nodeId: 'n1', state }] })).toEqual({ allowed: true, reason: 'command' });
    for (const state of ['succeeded', 'failed', 'cancelled', 'expired'])
      expect(decideArtifactAccess({ ...none, commands: [{ nodeId: 'n1', state }] }).allowed).toBe(false);
    expect(decideArtifactAccess({ ...none, commands: [{ nodeId: 'n2', state: 'running' }] }).allowed).toBe(false);
  });

  it("allows the cluster's pending or approved proposal, not a decided one or another cluster's", () => {
    for (const state of ['pending_validation', 'pending_approval', 'approved'])
      expect(decideArtifactAccess({ ...none, proposals: [{ clusterId: 'c1', state }] })).toEqual({ allowed: true, reason: 'proposal' });
    for (const state of ['rejected', 'expired', 'voided', 'rolled_out'])
      expect(decideArtifactAccess({ ...none, proposals: [{ clusterId: 'c1', state }] }).allowed).toBe(false);
    expect(decideArtifactAccess({ ...none, proposals: [{ clusterId: 'c2', state: 'pending_approval' }] }).allowed).toBe(false);
  });
});
