'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { Pencil } from 'lucide-react';
import { toast } from 'sonner';
import type { z } from 'zod';
import { SERVING_ENGINE_LABELS, ZClusterEngineSettings } from '@fleetplane/contracts';
import { DriftBadge, EngineStateBadge } from '~/components/engine/drift-badge';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { useCan } from '~/components/session-context';
import { QueryView } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Input, NativeSelect, Textarea } from '~/components/ui/input';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { useInvalidateEngine } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZClusterEngineSettings>;
type FormOut = z.output<typeof ZClusterEngineSettings>;
const toNumber = (v: unknown) => (v === '' || v === null || v === undefined ? Number.NaN : Number(v));
const toNullableNumber = (v: unknown) => (v === '' || v === null || v === undefined ? null : Number(v));
const emptyToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <p className="text-xs uppercase text-muted-foreground">{label}</p>
      <div className="text-sm font-medium break-words">{children}</div>
    </div>
  );
}

/** The launch command the form's current values would produce, rendered by the server from the same code the nodes get. */
function LivePreview({ clusterId, values }: { clusterId: string; values: FormIn }) {
  const trpc = useTRPC();
  const parsed = ZClusterEngineSettings.safeParse(values);
  const preview = useQuery({
    ...trpc.engine.previewLaunch.queryOptions({ clusterId, data: parsed.success ? parsed.data : (undefined as never) }),
    enabled: parsed.success,
    placeholderData: keepPreviousData,
  });
  if (!parsed.success) return <p className="text-sm text-muted-foreground">Fix the fields above to see the launch command.</p>;
  if (preview.data?.error) return <p className="text-sm text-critical-foreground">{preview.data.error}</p>;
  return (
    <pre className="max-h-56 overflow-auto rounded-md bg-muted p-2 text-xs" data-testid="launch-preview">
      {preview.data?.command ?? 'Rendering…'}
    </pre>
  );
}

function EngineSettingsDialog({
  clusterId,
  values,
  nodes,
}: {
  clusterId: string;
  values: FormIn;
  nodes: { id: string; hostname: string }[];
}) {
  const trpc = useTRPC();
  const update = useMutation(trpc.engine.updateClusterSettings.mutationOptions());
  const invalidate = useInvalidateEngine();
  return (
    <FormDialog<FormIn, FormOut, { id: string }>
      trigger={
        <Button variant="outline" size="sm">
          <Pencil /> Edit engine settings
        </Button>
      }
      title="Engine settings"
      description="How the agents on this cluster launch the serving engine. Templates may use only {artifact_dir}, {port} and {host}."
      formLabel="Engine settings form"
      contentClassName="max-w-3xl"
      schema={ZClusterEngineSettings}
      values={values}
      submit={(data) => update.mutateAsync({ clusterId, data })}
      onSuccess={async () => {
        toast.success('Engine settings saved');
        await invalidate();
      }}
      submitLabel="Save engine settings"
    >
      {({ register: reg, formState: { errors }, watch }) => (
        <>
          <div className="grid gap-4 sm:grid-cols-3">
            <Field
              label="Run mode"
              htmlFor="engine-run-mode"
              error={errors.engineRunMode?.message}
              hint="Child process, or a unit/container command"
            >
              <NativeSelect id="engine-run-mode" {...reg('engineRunMode')}>
                <option value="child">child process of the agent</option>
                <option value="command">systemd unit / container (command)</option>
              </NativeSelect>
            </Field>
            <Field label="Port" htmlFor="engine-port" error={errors.enginePort?.message}>
              <Input id="engine-port" type="number" aria-invalid={!!errors.enginePort} {...reg('enginePort', { setValueAs: toNumber })} />
            </Field>
            <Field
              label="Staging node"
              htmlFor="engine-staging"
              error={errors.stagingNodeId?.message}
              hint="Where the pipeline validates candidates"
            >
              <NativeSelect id="engine-staging" {...reg('stagingNodeId', { setValueAs: emptyToNull })}>
                <option value="">none</option>
                {nodes.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.hostname}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="Ready timeout (s)" htmlFor="engine-ready" error={errors.engineReadyTimeoutSeconds?.message}>
              <Input id="engine-ready" type="number" {...reg('engineReadyTimeoutSeconds', { setValueAs: toNumber })} />
            </Field>
            <Field label="Drain (s)" htmlFor="engine-drain" error={errors.engineDrainSeconds?.message}>
              <Input id="engine-drain" type="number" {...reg('engineDrainSeconds', { setValueAs: toNumber })} />
            </Field>
            <Field
              label="Tensor parallel"
              htmlFor="engine-tp"
              error={errors.engineTensorParallelSize?.message}
              hint="Empty: the node's GPU count"
            >
              <Input id="engine-tp" type="number" {...reg('engineTensorParallelSize', { setValueAs: toNullableNumber })} />
            </Field>
            <Field label="GPU memory utilisation" htmlFor="engine-gmu" error={errors.engineGpuMemoryUtilization?.message}>
              <Input id="engine-gmu" type="number" step="0.01" {...reg('engineGpuMemoryUtilization', { setValueAs: toNumber })} />
            </Field>
            <Field label="KV-cache dtype" htmlFor="engine-kv" error={errors.engineKvCacheDtype?.message}>
              <NativeSelect id="engine-kv" {...reg('engineKvCacheDtype')}>
                {ZClusterEngineSettings.shape.engineKvCacheDtype.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <div className="flex flex-col justify-end gap-2 text-sm">
              <label className="inline-flex items-center gap-2">
                <input type="checkbox" {...reg('engineTrustRemoteCode')} /> trust remote code
              </label>
              <label className="inline-flex items-center gap-2">
                <input type="checkbox" {...reg('engineChunkedPrefill')} /> chunked prefill
              </label>
            </div>
          </div>
          <Field
            label="Launch template"
            htmlFor="engine-template"
            error={errors.engineLaunchTemplate?.message}
            hint="Empty: generated from the settings above"
          >
            <Textarea
              id="engine-template"
              rows={3}
              className="font-mono text-xs"
              aria-invalid={!!errors.engineLaunchTemplate}
              {...reg('engineLaunchTemplate', { setValueAs: emptyToNull })}
            />
          </Field>
          <Field label="Stop template (command mode)" htmlFor="engine-stop-template" error={errors.engineStopTemplate?.message}>
            <Textarea
              id="engine-stop-template"
              rows={2}
              className="font-mono text-xs"
              aria-invalid={!!errors.engineStopTemplate}
              {...reg('engineStopTemplate', { setValueAs: emptyToNull })}
            />
          </Field>
          <div>
            <p className="mb-1 text-xs uppercase text-muted-foreground">Preview</p>
            <LivePreview clusterId={clusterId} values={watch()} />
          </div>
        </>
      )}
    </FormDialog>
  );
}

/** The cluster's engine: how agents launch it (with the rendered command) and what each node's engine serves. */
export function EngineSettingsPanel({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const canEdit = useCan('operator');
  const q = useQuery({ ...trpc.engine.clusterSettings.queryOptions({ clusterId }), refetchInterval: LIVE_REFRESH_MS });
  return (
    <Card data-testid="engine-settings">
      <CardHeader className="flex flex-row items-start justify-between gap-4">
        <div>
          <CardTitle>Serving engine</CardTitle>
          <CardDescription>The launch command the agents run, and what each node really serves.</CardDescription>
        </div>
        {canEdit && q.data ? (
          <EngineSettingsDialog clusterId={clusterId} values={q.data.settings} nodes={q.data.stagingNodeOptions} />
        ) : null}
      </CardHeader>
      <CardContent>
        <QueryView query={q} skeleton={<Skeleton className="h-40" />}>
          {(d) => (
            <div className="space-y-4">
              <div className="grid grid-cols-2 gap-4 md:grid-cols-4">
                <Fact label="Engine">
                  {SERVING_ENGINE_LABELS[d.servingEngine]} {d.engineVersion}
                </Fact>
                <Fact label="Run mode">{d.settings.engineRunMode === 'child' ? 'child process' : 'unit / container command'}</Fact>
                <Fact label="Port · ready timeout · drain">
                  {d.settings.enginePort} · {d.settings.engineReadyTimeoutSeconds} s · {d.settings.engineDrainSeconds} s
                </Fact>
                <Fact label="Staging node">{d.stagingNodeOptions.find((n) => n.id === d.settings.stagingNodeId)?.hostname ?? 'none'}</Fact>
              </div>
              <div>
                <p className="mb-1 text-xs uppercase text-muted-foreground">
                  Launch command {d.settings.engineLaunchTemplate ? '(template)' : '(generated)'} for {d.preview.artifact}
                </p>
                {d.preview.error ? (
                  <p className="text-sm text-critical-foreground">{d.preview.error}</p>
                ) : (
                  <pre className="max-h-56 overflow-auto rounded-md bg-muted p-2 text-xs">{d.preview.command}</pre>
                )}
              </div>
              {d.nodeEngines.length > 0 ? (
                <div className="rounded-lg border">
                  <Table data-testid="node-engines-table">
                    <TableHeader>
                      <TableRow>
                        <TableHead>Node</TableHead>
                        <TableHead>Engine</TableHead>
                        <TableHead>Drift</TableHead>
                        <TableHead>Detail</TableHead>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {d.nodeEngines.map((n) => (
                        <TableRow key={n.nodeId}>
                          <TableCell className="font-medium">{n.hostname}</TableCell>
                          <TableCell>
                            <EngineStateBadge state={n.state} />
                          </TableCell>
                          <TableCell>
                            <DriftBadge drift={n.drift} />
                          </TableCell>
                          <TableCell className="text-xs">{n.drift.message ?? '—'}</TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                </div>
              ) : null}
            </div>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}
