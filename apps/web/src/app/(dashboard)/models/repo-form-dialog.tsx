'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import type { RouterOutputs } from '@fleetplane/api';
import { Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input, NativeSelect } from '~/components/ui/input';
import { useTRPC } from '~/trpc/react';

type Repo = RouterOutputs['upstream']['listRepos'][number];
type TokenMode = 'keep' | 'none' | 'token' | 'secret_ref';

interface ServerError {
  message: string;
  data?: { zodError?: { fieldErrors: Record<string, string[]> } | null; field?: string | null } | null;
}

const DEFAULT_PATTERNS = '*.safetensors, *.json, tokenizer*, *.jinja, *.md';

/** Add or edit a tracked repo. The token is write-only: the form never shows a stored one. */
export function RepoFormDialog({ repo, trigger }: { repo?: Repo; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const families = useQuery(trpc.models.families.queryOptions());
  const clusters = useQuery(trpc.clusters.options.queryOptions());
  const [open, setOpen] = useState(false);
  const [familyId, setFamilyId] = useState(repo?.familyId ?? '');
  const [hubRepoId, setHubRepoId] = useState(repo?.hubRepoId ?? '');
  const [branch, setBranch] = useState(repo?.branch ?? 'main');
  const [patterns, setPatterns] = useState(repo ? repo.filePatterns.join(', ') : DEFAULT_PATTERNS);
  const [hubEndpoint, setHubEndpoint] = useState(repo?.hubEndpoint ?? '');
  const [autoStart, setAutoStart] = useState(repo?.autoStartPipelines ?? false);
  const [autoStartClusterIds, setAutoStartClusterIds] = useState<string[]>(repo?.autoStartClusters.map((c) => c.id) ?? []);
  const [tokenMode, setTokenMode] = useState<TokenMode>(repo ? 'keep' : 'none');
  const [token, setToken] = useState('');
  const [envVar, setEnvVar] = useState(repo?.accessTokenSecretRef ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const onError = (e: ServerError) => {
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.data?.zodError?.fieldErrors ?? {})) if (v[0]) next[k.split('.')[0]!] = v[0];
    if (e.data?.field) next[e.data.field] = e.message;
    setErrors(next);
    setFormError(Object.keys(next).length ? null : e.message);
  };
  // Updates say whether the stored token was dropped (the Hub endpoint changed without a new one).
  const onSuccess = async (result: object) => {
    if ('accessTokenDropped' in result && result.accessTokenDropped === true) toast.warning('Repo updated. The Hub endpoint changed, so the stored access token was removed; add one for the new endpoint if it needs one.');
    else toast.success(repo ? 'Repo updated' : 'Repo tracked; the first check is queued');
    setOpen(false);
    await queryClient.invalidateQueries(trpc.upstream.pathFilter());
  };
  const create = useMutation(trpc.upstream.createRepo.mutationOptions({ onError, onSuccess }));
  const update = useMutation(trpc.upstream.updateRepo.mutationOptions({ onError, onSuccess }));

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    const accessToken =
      tokenMode === 'token' ? { kind: 'token' as const, token } : tokenMode === 'secret_ref' ? { kind: 'secret_ref' as const, envVar } : { kind: tokenMode };
    const data = {
      familyId,
      hubRepoId,
      branch,
      filePatterns: patterns.split(',').map((p) => p.trim()).filter(Boolean),
      hubEndpoint: hubEndpoint.trim() ? hubEndpoint.trim() : null,
      autoStartPipelines: autoStart,
      autoStartClusterIds: autoStart ? autoStartClusterIds : [],
      accessToken,
    };
    if (repo) update.mutate({ id: repo.id, data });
    else create.mutate({ ...data, accessToken: tokenMode === 'keep' ? { kind: 'none' } : accessToken });
  };
  const pending = create.isPending || update.isPending;
  // A stored token never follows the repo to another Hub (the service drops it): say so before saving.
  const tokenWillBeDropped = !!repo?.hasAccessToken && tokenMode === 'keep' && (hubEndpoint.trim() || null) !== (repo.hubEndpoint ?? null);

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent className="max-w-lg">
        <DialogHeader>
          <DialogTitle>{repo ? `Edit ${repo.hubRepoId}` : 'Track a Hub repo'}</DialogTitle>
          <DialogDescription>The watcher polls the branch every minute (and on Hub webhooks) and records each new commit as a revision.</DialogDescription>
        </DialogHeader>
        <form onSubmit={submit} className="grid gap-3" noValidate>
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Model family" htmlFor="familyId" error={errors.familyId}>
            <NativeSelect id="familyId" value={familyId} onChange={(e) => setFamilyId(e.target.value)} aria-invalid={!!errors.familyId}>
              <option value="">Choose a family…</option>
              {(families.data ?? []).map((f) => (
                <option key={f.id} value={f.id}>
                  {f.name}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Hub repo" htmlFor="hubRepoId" error={errors.hubRepoId} hint="owner/name, e.g. deepseek-ai/DeepSeek-V4-Flash">
            <Input id="hubRepoId" value={hubRepoId} onChange={(e) => setHubRepoId(e.target.value)} aria-invalid={!!errors.hubRepoId} />
          </Field>
          <Field label="Branch" htmlFor="branch" error={errors.branch}>
            <Input id="branch" value={branch} onChange={(e) => setBranch(e.target.value)} aria-invalid={!!errors.branch} />
          </Field>
          <Field label="File patterns" htmlFor="filePatterns" error={errors.filePatterns} hint="Comma-separated globs; a pattern without / matches the file name at any depth">
            <Input id="filePatterns" value={patterns} onChange={(e) => setPatterns(e.target.value)} />
          </Field>
          <Field label="Hub endpoint" htmlFor="hubEndpoint" error={errors.hubEndpoint} hint="Empty uses HF_ENDPOINT">
            <Input id="hubEndpoint" value={hubEndpoint} onChange={(e) => setHubEndpoint(e.target.value)} placeholder="https://huggingface.co" aria-invalid={!!errors.hubEndpoint} />
          </Field>
          {tokenWillBeDropped ? (
            <Alert data-testid="token-drop-notice">
              <AlertDescription>Changing the Hub endpoint removes the stored access token unless you give a new one below, so a token never reaches a server it was not meant for.</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Access token" htmlFor="tokenMode" error={errors.accessToken} hint={repo?.hasAccessToken ? 'A token is configured' : undefined}>
            <NativeSelect id="tokenMode" value={tokenMode} onChange={(e) => setTokenMode(e.target.value as TokenMode)}>
              {repo ? <option value="keep">Keep the current setting</option> : null}
              <option value="none">None (public repo)</option>
              <option value="token">Store a token (encrypted)</option>
              <option value="secret_ref">Read from an environment variable</option>
            </NativeSelect>
          </Field>
          {tokenMode === 'token' ? (
            <Field label="Token" htmlFor="token" error={errors.accessToken}>
              <Input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} placeholder="hf_…" />
            </Field>
          ) : null}
          {tokenMode === 'secret_ref' ? (
            <Field label="Environment variable" htmlFor="envVar" error={errors.accessToken}>
              <Input id="envVar" value={envVar} onChange={(e) => setEnvVar(e.target.value)} placeholder="HF_TOKEN_DEEPSEEK" />
            </Field>
          ) : null}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={autoStart} onChange={(e) => setAutoStart(e.target.checked)} /> Start a pipeline run automatically for new weight or tokenizer revisions
          </label>
          {autoStart && clusters.data?.length ? (
            <fieldset className="grid gap-1.5 rounded-md border p-3" aria-invalid={!!errors.autoStartClusterIds}>
              <legend className="px-1 text-sm font-medium">Run for clusters</legend>
              <p className="text-xs text-muted-foreground">One run per cluster, into its artifact store and under its download limits. None ticked: one run for the default target, without cluster limits.</p>
              {clusters.data.map((c) => (
                <label key={c.id} className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={autoStartClusterIds.includes(c.id)}
                    onChange={(e) => setAutoStartClusterIds((ids) => (e.target.checked ? [...ids, c.id] : ids.filter((id) => id !== c.id)))}
                  />{' '}
                  {c.name}
                </label>
              ))}
              {errors.autoStartClusterIds ? <p className="text-sm text-destructive">{errors.autoStartClusterIds}</p> : null}
            </fieldset>
          ) : null}
          <DialogFooter>
            <Button type="submit" disabled={pending}>
              {pending ? 'Saving…' : repo ? 'Save' : 'Track repo'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
