import { procedure, router } from '../trpc';

export const meRouter = router({
  get: procedure('viewer').query(({ ctx }) => ctx.user),
});
