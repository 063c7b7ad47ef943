import {
  ZClusterEngineSettingsInput,
  ZNodeEngineInput,
  ZPreviewLaunchInput,
  ZUpdateClusterEngineSettingsInput,
  ZUpdateNodeEngineTemplateInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** The serving engine: cluster engine settings with a preview of the launch command, and each node's engine as its agent reports it. */
export const engineRouter = router({
  clusterSettings: procedure('viewer')
    .input(ZClusterEngineSettingsInput)
    .query(({ ctx, input }) => svc.getClusterEngineSettings(ctx, input.clusterId)),
  previewLaunch: procedure('viewer')
    .input(ZPreviewLaunchInput)
    .query(({ ctx, input }) => svc.previewEngineLaunch(ctx, input)),
  updateClusterSettings: procedure('operator')
    .input(ZUpdateClusterEngineSettingsInput)
    .mutation(({ ctx, input }) => svc.updateClusterEngineSettings(ctx, input)),
  nodeState: procedure('viewer')
    .input(ZNodeEngineInput)
    .query(({ ctx, input }) => svc.getNodeEngine(ctx, input.nodeId)),
  updateNodeTemplate: procedure('operator')
    .input(ZUpdateNodeEngineTemplateInput)
    .mutation(({ ctx, input }) => svc.updateNodeEngineTemplate(ctx, input)),
});
