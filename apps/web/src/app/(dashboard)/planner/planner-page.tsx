'use client';
import { skipToken, useQuery } from '@tanstack/react-query';
import { Check, Copy } from 'lucide-react';
import { useState } from 'react';
import { KV_CACHE_DTYPES, type TPlanRequest } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { ErrorState, PageHeader, QueryView } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Input, Label, NativeSelect, Textarea } from '~/components/ui/input';
import { Skeleton } from '~/components/ui/skeleton';
import { formatBytes } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { CompatVerdicts, VerdictBadge } from '~/components/capacity/compat-verdicts';

type Options = RouterOutputs['capacity']['plannerOptions'];
type Plan = RouterOutputs['capacity']['plan'];

const LIMIT_LABEL = { weights: 'weights', activations: 'activations + overhead', kv_cache: 'KV cache' } as const;

interface FormState {
  source: 'artifact' | 'config';
  artifactId: string;
  configJson: string;
  weightsGb: string;
  format: 'safetensors' | 'fp8' | 'fp4_fp8' | 'gguf' | 'awq' | 'mlx';
  target: 'gpu' | 'cluster';
  gpuModel: string;
  gpuCount: string;
  clusterId: string;
  engine: string;
  engineVersion: string;
  contextTokens: string;
  concurrency: string;
  kvCacheDtype: string;
}

function toRequest(f: FormState): TPlanRequest {
  return {
    model:
      f.source === 'artifact'
        ? { kind: 'artifact', artifactId: f.artifactId }
        : { kind: 'config', configJson: f.configJson, weightsBytes: Number(f.weightsGb) * 1e9, format: f.format },
    target:
      f.target === 'gpu'
        ? { kind: 'gpu', gpuModel: f.gpuModel, gpuCount: Number(f.gpuCount) }
        : { kind: 'cluster', clusterId: f.clusterId },
    engine: f.target === 'gpu' || f.engine ? (f.engine as TPlanRequest['engine']) || null : null,
    engineVersion: f.engineVersion.trim() || null,
    contextTokens: Number(f.contextTokens),
    concurrency: Number(f.concurrency),
    kvCacheDtype: (f.kvCacheDtype || null) as TPlanRequest['kvCacheDtype'],
  };
}

function Stat({ label, value, testId }: { label: string; value: React.ReactNode; testId?: string }) {
  return (
    <div className="grid gap-0.5">
      <span className="text-xs text-muted-foreground">{label}</span>
      <span className="font-medium tabular-nums" data-testid={testId}>
        {value}
      </span>
    </div>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="sm"
      variant="outline"
      onClick={() => {
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? <Check /> : <Copy />} {copied ? 'Copied' : 'Copy'}
    </Button>
  );
}

function PlanResult({ result }: { result: Plan }) {
  const p = result.plan;
  return (
    <div className="grid gap-4" data-testid="plan-result">
      {result.errors.length > 0 ? (
        <Alert variant="destructive">
          <AlertDescription>
            <ul className="list-disc pl-4">
              {result.errors.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          </AlertDescription>
        </Alert>
      ) : null}
      {p ? (
        <Card>
          <CardHeader className="flex flex-row items-center justify-between gap-2 pb-2">
            <CardTitle className="text-base">Fit</CardTitle>
            <Badge variant={p.fits ? 'healthy' : 'critical'} data-testid="fit-badge">
              {p.fits ? 'fits' : 'does not fit'}
            </Badge>
          </CardHeader>
          <CardContent className="grid gap-4">
            <p className="text-sm" data-testid="fit-summary">
              {p.summary}
            </p>
            <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
              <Stat label="Limiting factor" value={LIMIT_LABEL[p.limitingFactor]} testId="limiting-factor" />
              <Stat label="KV capacity" value={`${p.kvCapacityTokens.toLocaleString('en-US')} tokens`} testId="kv-capacity" />
              <Stat label="Max concurrent sequences" value={p.maxConcurrentSequences.toLocaleString('en-US')} testId="max-seqs" />
              <Stat label="Longest single sequence" value={`${p.maxContextForOneSequence.toLocaleString('en-US')} tokens`} />
              <Stat label="Weights per GPU" value={formatBytes(p.perGpu.weightsBytes)} />
              <Stat label="Activations + overhead per GPU" value={formatBytes(p.perGpu.activationBytes + p.perGpu.frameworkBytes)} />
              <Stat
                label="KV needed / free per GPU"
                value={`${formatBytes(p.perGpu.kvRequiredBytes)} / ${formatBytes(Math.max(0, p.perGpu.kvBudgetBytes))}`}
              />
              <Stat label="Usable per GPU" value={`${formatBytes(p.perGpu.usableBytes)} (${Math.round(p.gpuMemoryUtilization * 100)} %)`} />
              <Stat label="KV per token" value={`${Math.round(p.kvBytesPerToken.total).toLocaleString('en-US')} B (${p.kvCacheDtype})`} />
              <Stat
                label="Layers by KV kind"
                value={[
                  p.layerKinds.csa && `${p.layerKinds.csa} CSA`,
                  p.layerKinds.hca && `${p.layerKinds.hca} HCA`,
                  p.layerKinds.window && `${p.layerKinds.window} window`,
                  p.layerKinds.full && `${p.layerKinds.full} full`,
                ]
                  .filter(Boolean)
                  .join(' · ')}
              />
              <Stat label="Page size" value={`${p.blockSize} token${p.blockSize === 1 ? '' : 's'}`} />
              <Stat label="Fewest GPUs that fit" value={p.minimumGpus ?? '—'} />
            </div>
            {result.warnings.length > 0 ? (
              <ul className="list-disc pl-4 text-xs text-muted-foreground">
                {result.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            ) : null}
          </CardContent>
        </Card>
      ) : null}
      {result.launchCommand ? (
        <Card>
          <CardHeader className="flex flex-row items-center justify-between gap-2 pb-2">
            <CardTitle className="text-base">Launch command</CardTitle>
            <CopyButton text={result.launchCommand} />
          </CardHeader>
          <CardContent>
            <pre className="overflow-x-auto rounded-md bg-muted p-3 text-xs" data-testid="launch-command">
              {result.launchCommand}
            </pre>
          </CardContent>
        </Card>
      ) : null}
      {result.compatibility ? (
        <Card>
          <CardHeader className="flex flex-row items-center justify-between gap-2 pb-2">
            <CardTitle className="text-base">Compatibility</CardTitle>
            <VerdictBadge compatible={result.compatibility.compatible} />
          </CardHeader>
          <CardContent>
            <CompatVerdicts verdicts={result.compatibility.verdicts} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}

function PlannerForm({ options, onPlan }: { options: Options; onPlan: (r: TPlanRequest) => void }) {
  const [f, setF] = useState<FormState>({
    source: options.artifacts.length > 0 ? 'artifact' : 'config',
    artifactId: options.artifacts[0]?.id ?? '',
    configJson: '',
    weightsGb: '160',
    format: 'fp4_fp8',
    target: 'gpu',
    gpuModel: options.gpus.find((g) => g.model === 'NVIDIA H200')?.model ?? options.gpus[0]?.model ?? '',
    gpuCount: '1',
    clusterId: options.clusters[0]?.id ?? '',
    engine: 'vllm',
    engineVersion: '',
    contextTokens: '32768',
    concurrency: '8',
    kvCacheDtype: '',
  });
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((s) => ({ ...s, [k]: v }));
  return (
    <form
      noValidate
      aria-label="Planner form"
      className="grid gap-4 md:grid-cols-2 lg:grid-cols-4"
      onSubmit={(e) => {
        e.preventDefault();
        onPlan(toRequest(f));
      }}
    >
      <div className="grid gap-1.5 md:col-span-2">
        <Label htmlFor="plan-source">Model</Label>
        <NativeSelect id="plan-source" value={f.source} onChange={(e) => set('source', e.target.value as FormState['source'])}>
          <option value="artifact">An artifact</option>
          <option value="config">A pasted config.json</option>
        </NativeSelect>
      </div>
      {f.source === 'artifact' ? (
        <div className="grid gap-1.5 md:col-span-2">
          <Label htmlFor="plan-artifact">Artifact</Label>
          <NativeSelect id="plan-artifact" value={f.artifactId} onChange={(e) => set('artifactId', e.target.value)}>
            {options.artifacts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label} ({formatBytes(a.sizeBytes)})
              </option>
            ))}
          </NativeSelect>
        </div>
      ) : (
        <>
          <div className="grid gap-1.5">
            <Label htmlFor="plan-weights">Checkpoint size (GB)</Label>
            <Input id="plan-weights" inputMode="decimal" value={f.weightsGb} onChange={(e) => set('weightsGb', e.target.value)} />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="plan-format">Format</Label>
            <NativeSelect id="plan-format" value={f.format} onChange={(e) => set('format', e.target.value as FormState['format'])}>
              {(['fp4_fp8', 'fp8', 'safetensors', 'gguf', 'awq', 'mlx'] as const).map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </NativeSelect>
          </div>
          <div className="grid gap-1.5 md:col-span-2 lg:col-span-4">
            <Label htmlFor="plan-config">config.json</Label>
            <Textarea
              id="plan-config"
              rows={5}
              className="font-mono text-xs"
              value={f.configJson}
              onChange={(e) => set('configJson', e.target.value)}
              placeholder='{"model_type": "deepseek_v4", "num_hidden_layers": 43, ...}'
            />
          </div>
        </>
      )}
      <div className="grid gap-1.5">
        <Label htmlFor="plan-target">Run on</Label>
        <NativeSelect
          id="plan-target"
          value={f.target}
          onChange={(e) => {
            const target = e.target.value as FormState['target'];
            // A cluster brings its own engine and version; a GPU target needs one chosen.
            setF((s) => ({
              ...s,
              target,
              engine: target === 'cluster' ? '' : s.engine || 'vllm',
              engineVersion: target === 'cluster' ? '' : s.engineVersion,
            }));
          }}
        >
          <option value="gpu">GPU model and count</option>
          <option value="cluster" disabled={options.clusters.length === 0}>
            An existing cluster
          </option>
        </NativeSelect>
      </div>
      {f.target === 'gpu' ? (
        <>
          <div className="grid gap-1.5">
            <Label htmlFor="plan-gpu">GPU</Label>
            <NativeSelect id="plan-gpu" value={f.gpuModel} onChange={(e) => set('gpuModel', e.target.value)}>
              {options.gpus.map((g) => (
                <option key={g.model} value={g.model}>
                  {g.model}
                </option>
              ))}
            </NativeSelect>
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="plan-gpu-count">GPUs</Label>
            <Input id="plan-gpu-count" inputMode="numeric" value={f.gpuCount} onChange={(e) => set('gpuCount', e.target.value)} />
          </div>
        </>
      ) : (
        <div className="grid gap-1.5 md:col-span-2">
          <Label htmlFor="plan-cluster">Cluster</Label>
          <NativeSelect id="plan-cluster" value={f.clusterId} onChange={(e) => set('clusterId', e.target.value)}>
            {options.clusters.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.servingEngine} {c.engineVersion})
              </option>
            ))}
          </NativeSelect>
        </div>
      )}
      <div className="grid gap-1.5">
        <Label htmlFor="plan-engine">Engine</Label>
        <NativeSelect id="plan-engine" value={f.engine} onChange={(e) => set('engine', e.target.value)}>
          {f.target === 'cluster' ? <option value="">The cluster&apos;s engine</option> : null}
          {options.engines.map((e) => (
            <option key={e.kind} value={e.kind}>
              {e.label}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="plan-engine-version">Engine version</Label>
        <Input
          id="plan-engine-version"
          placeholder={f.target === 'cluster' ? "the cluster's" : 'e.g. 0.20.0'}
          value={f.engineVersion}
          onChange={(e) => set('engineVersion', e.target.value)}
        />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="plan-context">Context per sequence (tokens)</Label>
        <Input id="plan-context" inputMode="numeric" value={f.contextTokens} onChange={(e) => set('contextTokens', e.target.value)} />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="plan-concurrency">Concurrent sequences</Label>
        <Input id="plan-concurrency" inputMode="numeric" value={f.concurrency} onChange={(e) => set('concurrency', e.target.value)} />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="plan-kv">KV cache dtype</Label>
        <NativeSelect id="plan-kv" value={f.kvCacheDtype} onChange={(e) => set('kvCacheDtype', e.target.value)}>
          <option value="">Engine default for this GPU</option>
          {KV_CACHE_DTYPES.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="flex items-end md:col-span-2 lg:col-span-4">
        <Button type="submit">Plan</Button>
      </div>
    </form>
  );
}

export function PlannerPage() {
  const trpc = useTRPC();
  const options = useQuery(trpc.capacity.plannerOptions.queryOptions());
  const [request, setRequest] = useState<TPlanRequest | null>(null);
  const plan = useQuery({ ...trpc.capacity.plan.queryOptions(request ?? skipToken), retry: false });
  return (
    <>
      <PageHeader
        title="Capacity planner"
        description="Will this artifact run on these GPUs with this engine at this context, and with which command? Read from the artifact's own config.json and byte size."
      />
      <Card className="mb-6">
        <CardContent className="pt-6">
          <QueryView query={options} skeleton={<Skeleton className="h-40" />}>
            {(o) => <PlannerForm options={o} onPlan={setRequest} />}
          </QueryView>
        </CardContent>
      </Card>
      {request === null ? null : plan.isPending ? (
        <Skeleton className="h-64" aria-label="Planning" />
      ) : plan.isError ? (
        <ErrorState error={plan.error} onRetry={() => void plan.refetch()} />
      ) : (
        <PlanResult result={plan.data} />
      )}
    </>
  );
}
