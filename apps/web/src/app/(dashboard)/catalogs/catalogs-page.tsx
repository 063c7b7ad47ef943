'use client';
import { useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable, pageLocally, type TableQueryState } from '~/components/data-table';
import { useCan } from '~/components/session-context';
import { PageHeader, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { useTRPC } from '~/trpc/react';
import { ApiPriceFormDialog, DeleteGpuButton, EngineFormDialog, GpuFormDialog } from './catalog-dialogs';

type CatalogGpu = RouterOutputs['catalog']['gpus'][number];
type CatalogEngine = RouterOutputs['catalog']['engines'][number];
type ApiPrice = RouterOutputs['catalog']['apiPrices'][number];

const gib = (mib: number) => `${Math.round(mib / 1024)} GiB`;
// Prices like $0.435 keep their last digit: rounding them here would misstate the catalog.
const perM = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');

type GpuSort = 'model' | 'memoryMib' | 'generation' | 'typicalHourlyUsd';
const gpuCol = createColumnHelper<CatalogGpu>();

function GpusCard() {
  const trpc = useTRPC();
  const isAdmin = useCan('admin');
  const [state, setState] = useState<TableQueryState<GpuSort>>({ page: 1, pageSize: 25, sortBy: 'memoryMib', sortDir: 'asc' });
  const query = useQuery({
    ...trpc.catalog.gpus.queryOptions(),
    select: (rows) =>
      pageLocally(rows, state, {
        model: (r) => r.model,
        memoryMib: (r) => r.memoryMib,
        generation: (r) => r.generation,
        typicalHourlyUsd: (r) => r.typicalHourlyUsd,
      }),
  });
  const columns = [
    gpuCol.accessor('model', { header: 'GPU', cell: (x) => <span className="font-medium">{x.getValue()}</span> }),
    gpuCol.accessor('generation', {
      header: 'Generation',
      cell: (x) => (
        <span className="capitalize">
          {x.getValue()} <span className="text-xs text-muted-foreground">{x.row.original.computeCapability ?? ''}</span>
        </span>
      ),
    }),
    gpuCol.accessor('memoryMib', { header: 'Memory', cell: (x) => <span className="tabular-nums">{gib(x.getValue())}</span> }),
    gpuCol.display({
      id: 'tensorCores',
      header: 'Tensor cores',
      cell: (x) => (
        <span className="flex gap-1">
          {x.row.original.fp8TensorCores ? <Badge variant="secondary">FP8</Badge> : null}
          {x.row.original.fp4TensorCores ? <Badge variant="secondary">FP4</Badge> : null}
          {!x.row.original.fp8TensorCores && !x.row.original.fp4TensorCores ? <span className="text-muted-foreground">—</span> : null}
        </span>
      ),
    }),
    gpuCol.accessor('interconnect', { header: 'Interconnect', enableSorting: false }),
    gpuCol.accessor('typicalHourlyUsd', {
      header: '$ / GPU-hour',
      cell: (x) => <span className="tabular-nums">{x.getValue() === null ? '—' : `$${x.getValue()!.toFixed(2)}`}</span>,
    }),
    ...(isAdmin
      ? [
          gpuCol.display({
            id: 'actions',
            header: '',
            cell: (x) => (
              <div className="flex justify-end gap-1">
                <GpuFormDialog
                  gpu={x.row.original}
                  trigger={
                    <Button variant="ghost" size="icon" aria-label={`Edit ${x.row.original.model}`}>
                      <Pencil />
                    </Button>
                  }
                />
                <DeleteGpuButton gpu={x.row.original}>
                  <Button variant="ghost" size="icon" aria-label={`Remove ${x.row.original.model}`}>
                    <Trash2 />
                  </Button>
                </DeleteGpuButton>
              </div>
            ),
          }),
        ]
      : []),
  ];
  return (
    <Card>
      <CardHeader className="flex flex-row items-start justify-between gap-4">
        <div>
          <CardTitle>GPUs</CardTitle>
          <CardDescription>
            Memory, tensor-core support and typical price per GPU. Clusters are matched to these by the model name their agents report.
          </CardDescription>
        </div>
        {isAdmin ? (
          <GpuFormDialog
            trigger={
              <Button size="sm">
                <Plus /> Add GPU
              </Button>
            }
          />
        ) : null}
      </CardHeader>
      <CardContent>
        <QueryDataTable<CatalogGpu, GpuSort>
          query={query}
          skeleton={<TableSkeleton rows={6} columns={6} />}
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.id}
          empty="No GPUs in the catalog"
          testId="catalog-gpus"
        />
      </CardContent>
    </Card>
  );
}

type EngineSort = 'label' | 'minV4Version';
const engineCol = createColumnHelper<CatalogEngine>();

function EnginesCard() {
  const trpc = useTRPC();
  const isAdmin = useCan('admin');
  const [state, setState] = useState<TableQueryState<EngineSort>>({ page: 1, pageSize: 25, sortBy: 'label', sortDir: 'asc' });
  const query = useQuery({
    ...trpc.catalog.engines.queryOptions(),
    select: (rows) => pageLocally(rows, state, { label: (r) => r.label, minV4Version: (r) => r.minV4Version }),
  });
  const columns = [
    engineCol.accessor('label', { header: 'Engine', cell: (x) => <span className="font-medium">{x.getValue()}</span> }),
    engineCol.accessor('servesV4', {
      header: 'Serves V4',
      enableSorting: false,
      cell: (x) => (
        <Badge variant={x.getValue() === false ? 'critical' : x.getValue() ? 'healthy' : 'secondary'}>{yesNo(x.getValue())}</Badge>
      ),
    }),
    engineCol.accessor('minV4Version', {
      header: 'V4 from',
      cell: (x) => (
        <span title={x.row.original.minV4Source} className="tabular-nums">
          {x.getValue() ?? '—'}
          {x.row.original.minV4OfficialVersion && x.row.original.minV4OfficialVersion !== x.getValue() ? (
            <span className="text-xs text-muted-foreground"> (official {x.row.original.minV4OfficialVersion})</span>
          ) : null}
        </span>
      ),
    }),
    engineCol.accessor('formats', {
      header: 'Formats',
      enableSorting: false,
      cell: (x) => (
        <span className="flex flex-wrap gap-1">
          {x.getValue().map((f) => (
            <Badge key={f} variant="secondary">
              {f}
            </Badge>
          ))}
        </span>
      ),
    }),
    engineCol.accessor('hopperFp4MinVersion', {
      header: 'FP4 on Hopper',
      enableSorting: false,
      cell: (x) => <span title={x.row.original.hopperFp4Source}>{x.getValue() ? `from ${x.getValue()}` : 'no kernels'}</span>,
    }),
    ...(isAdmin
      ? [
          engineCol.display({
            id: 'actions',
            header: '',
            cell: (x) => (
              <div className="flex justify-end">
                <EngineFormDialog
                  engine={x.row.original}
                  trigger={
                    <Button variant="ghost" size="icon" aria-label={`Edit ${x.row.original.label}`}>
                      <Pencil />
                    </Button>
                  }
                />
              </div>
            ),
          }),
        ]
      : []),
  ];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Serving engines</CardTitle>
        <CardDescription>
          Which engine versions serve DeepSeek V4 and in which formats; compatibility verdicts, proposals and build targets follow these
          rows. Hover a version for its source.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <QueryDataTable<CatalogEngine, EngineSort>
          query={query}
          skeleton={<TableSkeleton rows={6} columns={5} />}
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.kind}
          empty="No engines in the catalog"
          testId="catalog-engines"
        />
      </CardContent>
    </Card>
  );
}

type PriceSort = 'family' | 'asOf';
const priceCol = createColumnHelper<ApiPrice>();

function ApiPricesCard() {
  const trpc = useTRPC();
  const isAdmin = useCan('admin');
  const [state, setState] = useState<TableQueryState<PriceSort>>({ page: 1, pageSize: 25, sortBy: 'family', sortDir: 'asc' });
  const query = useQuery({
    ...trpc.catalog.apiPrices.queryOptions(),
    select: (rows) => pageLocally(rows, state, { family: (r) => r.family, asOf: (r) => r.asOf }),
  });
  const columns = [
    priceCol.accessor('family', { header: 'Model family', cell: (x) => <span className="font-medium">{x.getValue()}</span> }),
    priceCol.accessor('inputPerM', { header: 'Input / 1M', enableSorting: false, cell: (x) => perM(x.getValue()) }),
    priceCol.accessor('outputPerM', { header: 'Output / 1M', enableSorting: false, cell: (x) => perM(x.getValue()) }),
    priceCol.accessor('cacheHitInputPerM', { header: 'Cache-hit input / 1M', enableSorting: false, cell: (x) => perM(x.getValue()) }),
    priceCol.accessor('asOf', { header: 'As of', cell: (x) => <span className="tabular-nums">{x.getValue()}</span> }),
    ...(isAdmin
      ? [
          priceCol.display({
            id: 'actions',
            header: '',
            cell: (x) => (
              <div className="flex justify-end">
                <ApiPriceFormDialog
                  price={x.row.original}
                  trigger={
                    <Button variant="ghost" size="icon" aria-label={`Edit ${x.row.original.family} prices`}>
                      <Pencil />
                    </Button>
                  }
                />
              </div>
            ),
          }),
        ]
      : []),
  ];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Hosted API prices</CardTitle>
        <CardDescription>What DeepSeek&apos;s own API charges; the cost page prices self-hosting against it.</CardDescription>
      </CardHeader>
      <CardContent>
        <QueryDataTable<ApiPrice, PriceSort>
          query={query}
          skeleton={<TableSkeleton rows={2} columns={5} />}
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.family}
          empty="No API prices in the catalog"
          testId="catalog-api-prices"
        />
      </CardContent>
    </Card>
  );
}

/** The capacity catalogs: everyone reads them, admins edit them; every edit is in the audit log with before and after. */
export function CatalogsPage() {
  const isAdmin = useCan('admin');
  return (
    <div className="space-y-6">
      <PageHeader
        title="Catalogs"
        description={
          <>
            The figures behind the planner, compatibility verdicts and cost.{' '}
            {isAdmin ? (
              <>
                Every change is recorded with before and after in the{' '}
                <Link className="text-primary underline underline-offset-2" href="/admin/audit">
                  audit log
                </Link>
                .
              </>
            ) : (
              'Admins edit them; every change is audited.'
            )}
          </>
        }
      />
      <GpusCard />
      <EnginesCard />
      <ApiPricesCard />
    </div>
  );
}
