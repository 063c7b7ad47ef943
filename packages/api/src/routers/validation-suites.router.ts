import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

// Two flat namespaces (validationSuites.*, validationRuns.*) keep every procedure path "ns.name".
export const validationSuitesRouter = router({
  list: procedure('viewer').query(({ ctx }) => svc.listSuites(ctx)),
});
