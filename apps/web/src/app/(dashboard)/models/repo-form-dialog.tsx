'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { toast } from 'sonner';
import { z } from 'zod';
import { ZAccessTokenInput, ZTrackedRepoFields } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input, NativeSelect } from '~/components/ui/input';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { useInvalidateModels } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type Repo = RouterOutputs['models']['listRepos'][number];
type TokenMode = 'keep' | 'none' | 'token' | 'secret_ref';

const DEFAULT_PATTERNS = '*.safetensors, *.json, tokenizer*, *.jinja, *.md';

// The form edits patterns as one comma-separated line, the endpoint as text (empty = HF_ENDPOINT) and the
// token as a mode plus two boxes; each is turned into the contract's shape and checked by its schema.
const fields = ZTrackedRepoFields.shape;
const ZRepoForm = z.object({
  familyId: fields.familyId,
  hubRepoId: fields.hubRepoId,
  branch: fields.branch,
  filePatterns: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(fields.filePatterns),
  hubEndpoint: z
    .string()
    .transform((s) => (s.trim() ? s.trim() : null))
    .pipe(fields.hubEndpoint.unwrap()),
  accessToken: z
    .object({ kind: z.enum(['keep', 'none', 'token', 'secret_ref']), token: z.string(), envVar: z.string() })
    .transform(({ kind, token, envVar }) => (kind === 'token' ? { kind, token } : kind === 'secret_ref' ? { kind, envVar } : { kind }))
    .pipe(ZAccessTokenInput),
  autoStartPipelines: z.boolean(),
  autoStartClusterIds: z.array(z.string()),
});
type RepoFormIn = z.input<typeof ZRepoForm>;
type RepoFormOut = z.output<typeof ZRepoForm>;

/** Add or edit a tracked repo. The token is write-only: the form never shows a stored one. */
export function RepoFormDialog({ repo, trigger }: { repo?: Repo; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateModels = useInvalidateModels();
  const families = useQuery(trpc.models.families.queryOptions());
  const clusters = useQuery(trpc.clusters.options.queryOptions());
  const create = useMutation(trpc.models.createRepo.mutationOptions());
  const update = useMutation(trpc.models.updateRepo.mutationOptions());
  const values: RepoFormIn = {
    familyId: repo?.familyId ?? '',
    hubRepoId: repo?.hubRepoId ?? '',
    branch: repo?.branch ?? 'main',
    filePatterns: repo ? repo.filePatterns.join(', ') : DEFAULT_PATTERNS,
    hubEndpoint: repo?.hubEndpoint ?? '',
    accessToken: { kind: repo ? 'keep' : 'none', token: '', envVar: repo?.accessTokenSecretRef ?? '' },
    autoStartPipelines: repo?.autoStartPipelines ?? false,
    autoStartClusterIds: repo?.autoStartClusters.map((c) => c.id) ?? [],
  };

  return (
    <FormDialog<RepoFormIn, RepoFormOut, unknown>
      trigger={trigger}
      title={repo ? `Edit ${repo.hubRepoId}` : 'Track a Hub repo'}
      description="The watcher polls the branch every minute (and on Hub webhooks) and records each new commit as a revision."
      formLabel="Repo form"
      contentClassName="max-w-lg"
      schema={ZRepoForm}
      values={values}
      submit={(v) => {
        const data = { ...v, autoStartClusterIds: v.autoStartPipelines ? v.autoStartClusterIds : [] };
        if (repo) return update.mutateAsync({ id: repo.id, data });
        return create.mutateAsync({ ...data, accessToken: data.accessToken.kind === 'keep' ? { kind: 'none' } : data.accessToken });
      }}
      onSuccess={async (result) => {
        // Updates say whether the stored token was dropped (the Hub endpoint changed without a new one).
        if (typeof result === 'object' && result !== null && 'accessTokenDropped' in result && result.accessTokenDropped === true)
          toast.warning(
            'Repo updated. The Hub endpoint changed, so the stored access token was removed; add one for the new endpoint if it needs one.',
          );
        else toast.success(repo ? 'Repo updated' : 'Repo tracked; the first check is queued');
        await invalidateModels();
      }}
      submitLabel={repo ? 'Save' : 'Track repo'}
    >
      {({ register, watch, setValue, formState: { errors } }) => {
        const tokenMode = watch('accessToken.kind') as TokenMode;
        const tokenError = errors.accessToken?.message ?? errors.accessToken?.token?.message ?? errors.accessToken?.envVar?.message;
        const autoStart = watch('autoStartPipelines');
        const autoStartClusterIds = watch('autoStartClusterIds');
        const hubEndpoint = watch('hubEndpoint') ?? '';
        // A stored token never follows the repo to another Hub (the service drops it): say so before saving.
        const tokenWillBeDropped =
          !!repo?.hasAccessToken && tokenMode === 'keep' && (hubEndpoint.trim() || null) !== (repo.hubEndpoint ?? null);
        return (
          <>
            <Field label="Model family" htmlFor="familyId" error={errors.familyId?.message}>
              <NativeSelect id="familyId" aria-invalid={!!errors.familyId} {...register('familyId')}>
                <option value="">Choose a family…</option>
                {(families.data ?? []).map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field
              label="Hub repo"
              htmlFor="hubRepoId"
              error={errors.hubRepoId?.message}
              hint="owner/name, e.g. deepseek-ai/DeepSeek-V4-Flash"
            >
              <Input id="hubRepoId" aria-invalid={!!errors.hubRepoId} {...register('hubRepoId')} />
            </Field>
            <Field label="Branch" htmlFor="branch" error={errors.branch?.message}>
              <Input id="branch" aria-invalid={!!errors.branch} {...register('branch')} />
            </Field>
            <Field
              label="File patterns"
              htmlFor="filePatterns"
              error={errors.filePatterns?.message}
              hint="Comma-separated globs; a pattern without / matches the file name at any depth"
            >
              <Input id="filePatterns" aria-invalid={!!errors.filePatterns} {...register('filePatterns')} />
            </Field>
            <Field label="Hub endpoint" htmlFor="hubEndpoint" error={errors.hubEndpoint?.message} hint="Empty uses HF_ENDPOINT">
              <Input
                id="hubEndpoint"
                placeholder="https://huggingface.co"
                aria-invalid={!!errors.hubEndpoint}
                {...register('hubEndpoint')}
              />
            </Field>
            {tokenWillBeDropped ? (
              <Alert data-testid="token-drop-notice">
                <AlertDescription>
                  Changing the Hub endpoint removes the stored access token unless you give a new one below, so a token never reaches a
                  server it was not meant for.
                </AlertDescription>
              </Alert>
            ) : null}
            <Field
              label="Access token"
              htmlFor="tokenMode"
              error={tokenError}
              hint={repo?.hasAccessToken ? 'A token is configured' : undefined}
            >
              <NativeSelect id="tokenMode" {...register('accessToken.kind')}>
                {repo ? <option value="keep">Keep the current setting</option> : null}
                <option value="none">None (public repo)</option>
                <option value="token">Store a token (encrypted)</option>
                <option value="secret_ref">Read from an environment variable</option>
              </NativeSelect>
            </Field>
            {tokenMode === 'token' ? (
              <Field label="Token" htmlFor="token" error={tokenError}>
                <Input
                  id="token"
                  type="password"
                  autoComplete="off"
                  placeholder="hf_…"
                  aria-invalid={!!tokenError}
                  {...register('accessToken.token')}
                />
              </Field>
            ) : null}
            {tokenMode === 'secret_ref' ? (
              <Field label="Environment variable" htmlFor="envVar" error={tokenError}>
                <Input id="envVar" placeholder="HF_TOKEN_DEEPSEEK" aria-invalid={!!tokenError} {...register('accessToken.envVar')} />
              </Field>
            ) : null}
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" {...register('autoStartPipelines')} /> Start a pipeline run automatically for new weight or tokenizer
              revisions
            </label>
            {autoStart && clusters.data?.length ? (
              <fieldset className="grid gap-1.5 rounded-md border p-3" aria-invalid={!!errors.autoStartClusterIds}>
                <legend className="px-1 text-sm font-medium">Run for clusters</legend>
                <p className="text-xs text-muted-foreground">
                  One run per cluster, into its artifact store and under its download limits. None ticked: one run for the default target,
                  without cluster limits.
                </p>
                {clusters.data.map((c) => (
                  <label key={c.id} className="flex items-center gap-2 text-sm">
                    <input
                      type="checkbox"
                      checked={autoStartClusterIds.includes(c.id)}
                      onChange={(e) =>
                        setValue(
                          'autoStartClusterIds',
                          e.target.checked ? [...autoStartClusterIds, c.id] : autoStartClusterIds.filter((id) => id !== c.id),
                        )
                      }
                    />{' '}
                    {c.name}
                  </label>
                ))}
                {errors.autoStartClusterIds ? <p className="text-sm text-destructive">{errors.autoStartClusterIds.message}</p> : null}
              </fieldset>
            ) : null}
          </>
        );
      }}
    </FormDialog>
  );
}
