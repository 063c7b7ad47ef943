import { ZIdInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** Artifacts: files, digest, recipe and lineage ("how was this built"). */
export const artifactsRouter = router({
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getArtifact(ctx, input.id)),
});
