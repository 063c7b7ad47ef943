import {
  ZCreateCatalogGpuInput,
  ZIdInput,
  ZUpdateApiPriceInput,
  ZUpdateCatalogEngineInput,
  ZUpdateCatalogGpuInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

// Catalog edits are admin-only: they change every plan and verdict in the fleet.
export const catalogRouter = router({
  gpus: procedure('viewer').query(({ ctx }) => svc.listCatalogGpus(ctx)),
  engines: procedure('viewer').query(({ ctx }) => svc.listCatalogEngines(ctx)),
  apiPrices: procedure('viewer').query(({ ctx }) => svc.listApiPrices(ctx)),
  createGpu: procedure('admin')
    .input(ZCreateCatalogGpuInput)
    .mutation(({ ctx, input }) => svc.createCatalogGpu(ctx, input)),
  updateGpu: procedure('admin')
    .input(ZUpdateCatalogGpuInput)
    .mutation(({ ctx, input }) => svc.updateCatalogGpu(ctx, input)),
  deleteGpu: procedure('admin')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteCatalogGpu(ctx, input.id)),
  updateEngine: procedure('admin')
    .input(ZUpdateCatalogEngineInput)
    .mutation(({ ctx, input }) => svc.updateCatalogEngine(ctx, input)),
  updateApiPrice: procedure('admin')
    .input(ZUpdateApiPriceInput)
    .mutation(({ ctx, input }) => svc.updateApiPrice(ctx, input)),
});
