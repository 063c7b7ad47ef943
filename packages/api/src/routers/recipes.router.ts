import { z } from 'zod';
import {
  ZCreateRecipeInput,
  ZId,
  ZNewRecipeVersionInput,
  ZRecipeListInput,
  ZRecipeVersionsInput,
  ZSetBuildTargetsInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** Quantisation recipes (versioned data) and the build targets that pick them per (tracked repo, cluster). */
export const recipesRouter = router({
  list: procedure('viewer')
    .input(ZRecipeListInput)
    .query(({ ctx, input }) => svc.listRecipes(ctx, input)),
  versions: procedure('viewer')
    .input(ZRecipeVersionsInput)
    .query(({ ctx, input }) => svc.recipeVersions(ctx, input.name)),
  create: procedure('operator')
    .input(ZCreateRecipeInput)
    .mutation(({ ctx, input }) => svc.saveRecipe(ctx, input, { mustBeNew: true })),
  newVersion: procedure('operator')
    .input(ZNewRecipeVersionInput)
    .mutation(({ ctx, input }) => svc.saveRecipe(ctx, input)),
  buildTargets: procedure('viewer')
    .input(z.object({ trackedRepoId: ZId }))
    .query(({ ctx, input }) => svc.listBuildTargets(ctx, input.trackedRepoId)),
  setBuildTargets: procedure('operator')
    .input(ZSetBuildTargetsInput)
    .mutation(({ ctx, input }) => svc.setBuildTargets(ctx, input)),
});
