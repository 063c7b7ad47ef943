'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Copy, KeyRound, Plus } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import type { z } from 'zod';
import {
  agentEnrollCommand,
  DEFAULT_JOIN_TOKEN_MINUTES,
  ZCreateJoinTokenInput,
  type TCreateJoinTokenInput,
  type TJoinTokenStatus,
} from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { pageLocally, QueryDataTable, type TableQueryState } from '~/components/data-table';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { RevokeButton } from '~/components/revoke-button';
import { EmptyState, TableSkeleton } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Input, NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateJoinTokens } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { RelativeTime } from '~/components/relative-time';

type Created = RouterOutputs['joinTokens']['create'];

const VALIDITY = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 24 * 60, label: '24 hours' },
  { minutes: 7 * 24 * 60, label: '7 days' },
];

const STATUS_VARIANT: Record<TJoinTokenStatus, 'healthy' | 'secondary' | 'unknown' | 'critical'> = {
  active: 'healthy',
  used: 'secondary',
  expired: 'unknown',
  revoked: 'critical',
};

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Plain-http dashboards have no clipboard API; the text stays selectable.
    return false;
  }
}

function CreatedToken({ created }: { created: Created }) {
  const command = agentEnrollCommand(window.location.origin, created.token);
  return (
    <div className="space-y-3">
      <Alert variant="warning">
        <AlertDescription>
          This is the only time the token is shown. It works once, until {formatDateTime(created.expiresAt)}.
        </AlertDescription>
      </Alert>
      <div>
        <p className="mb-1 text-sm font-medium">Run on the new node</p>
        <div className="flex items-start gap-2">
          <code className="block flex-1 select-all break-all rounded-md bg-muted px-3 py-2 font-mono text-xs" data-testid="enroll-command">
            {command}
          </code>
          <Button
            variant="outline"
            size="icon"
            aria-label="Copy the enroll command"
            onClick={async () =>
              (await copyText(command)) ? toast.success('Command copied') : toast.message('Select the command and copy it by hand')
            }
          >
            <Copy />
          </Button>
        </div>
      </div>
      <p className="text-xs text-muted-foreground">
        Then start reporting with <code className="font-mono">fleetplane-agent run</code>. The node appears in this cluster under its
        hostname.
      </p>
    </div>
  );
}

function CreateTokenDialog({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const invalidateJoinTokens = useInvalidateJoinTokens();
  const create = useMutation(trpc.joinTokens.create.mutationOptions());
  return (
    <FormDialog<TCreateJoinTokenInput, z.output<typeof ZCreateJoinTokenInput>, Created>
      trigger={
        <Button size="sm">
          <Plus /> Create join token
        </Button>
      }
      title="Create a join token"
      resultTitle="Join token created"
      description="A one-time token lets one GPU node enroll its agent into this cluster."
      formLabel="Join token form"
      contentClassName="max-w-xl"
      schema={ZCreateJoinTokenInput}
      values={{ clusterId, expiresInMinutes: DEFAULT_JOIN_TOKEN_MINUTES, description: '' }}
      submit={(v) => create.mutateAsync(v)}
      onSuccess={() => invalidateJoinTokens()}
      renderResult={(created) => <CreatedToken created={created} />}
      submitLabel="Create token"
      pendingLabel="Creating…"
    >
      {({ register, formState: { errors } }) => (
        <>
          <Field
            label="Valid for"
            htmlFor="token-validity"
            error={errors.expiresInMinutes?.message}
            hint="Unused tokens stop working after this."
          >
            <NativeSelect id="token-validity" {...register('expiresInMinutes', { valueAsNumber: true })}>
              {VALIDITY.map((v) => (
                <option key={v.minutes} value={v.minutes}>
                  {v.label}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field
            label="Description"
            htmlFor="token-description"
            error={errors.description?.message}
            hint="Optional, e.g. the rack or ticket"
          >
            <Input id="token-description" maxLength={200} aria-invalid={!!errors.description} {...register('description')} />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

type Row = RouterOutputs['joinTokens']['list'][number];
type Sort = 'createdAt' | 'expiresAt' | 'status';
const col = createColumnHelper<Row>();
const SORT_VALUE: Record<Sort, (r: Row) => Date | string | null> = {
  createdAt: (r) => r.createdAt,
  expiresAt: (r) => r.expiresAt,
  status: (r) => r.status,
};

/** Operators enroll nodes here: create a one-time token, copy the command, revoke tokens not used yet. */
export function JoinTokensPanel({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const invalidateJoinTokens = useInvalidateJoinTokens();
  const [state, setState] = useState<TableQueryState<Sort>>({ page: 1, pageSize: 10, sortBy: 'createdAt', sortDir: 'desc' });
  // A cluster has a handful of tokens (they expire within a week), so the API returns them all and the table pages here.
  const tokens = useQuery({ ...trpc.joinTokens.list.queryOptions({ clusterId }), select: (rows) => pageLocally(rows, state, SORT_VALUE) });
  const revoke = useMutation(trpc.joinTokens.revoke.mutationOptions());
  const columns = [
    col.accessor('tokenPrefix', {
      header: 'Token',
      enableSorting: false,
      cell: (c) => (
        <>
          <span className="font-mono text-xs">{c.getValue()}…</span>
          {c.row.original.description ? <p className="text-xs text-muted-foreground">{c.row.original.description}</p> : null}
        </>
      ),
    }),
    col.accessor('status', {
      header: 'Status',
      enableSorting: true,
      cell: (c) => <Badge variant={STATUS_VARIANT[c.getValue()]}>{c.getValue()}</Badge>,
    }),
    col.accessor('expiresAt', {
      header: 'Expires',
      enableSorting: true,
      cell: (c) => <span className="text-xs tabular-nums">{formatDateTime(c.getValue())}</span>,
    }),
    col.accessor('createdAt', {
      header: 'Created',
      enableSorting: true,
      cell: (c) => (
        <span className="text-xs text-muted-foreground">
          <RelativeTime date={c.getValue()} />
          {c.row.original.createdBy ? ` by ${c.row.original.createdBy}` : ''}
        </span>
      ),
    }),
    col.display({
      id: 'usedBy',
      header: 'Used by',
      cell: (c) => {
        const node = c.row.original.usedByNode;
        return (
          <span className="text-xs">
            {node ? (
              <Link className="text-primary hover:underline" href={`/nodes/${node.id}`}>
                {node.hostname}
              </Link>
            ) : (
              '—'
            )}
          </span>
        );
      },
    }),
    col.display({
      id: 'actions',
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) =>
        c.row.original.status === 'active' ? (
          <div className="text-right">
            <RevokeButton
              noun="token"
              prefix={c.row.original.tokenPrefix}
              title="Revoke this join token?"
              description={`Token ${c.row.original.tokenPrefix}… stops working at once. Nodes already enrolled are not affected.`}
              revoke={() => revoke.mutateAsync({ id: c.row.original.id })}
              refresh={invalidateJoinTokens}
            />
          </div>
        ) : null,
    }),
  ];
  return (
    <Card data-testid="join-tokens">
      <CardHeader className="flex-row items-start justify-between gap-4 space-y-0">
        <div>
          <CardTitle className="flex items-center gap-2">
            <KeyRound className="size-4 text-primary" /> Agent enrollment
          </CardTitle>
          <CardDescription>Join tokens for new nodes of this cluster. Only a hash of each token is stored.</CardDescription>
        </div>
        <CreateTokenDialog clusterId={clusterId} />
      </CardHeader>
      <CardContent>
        <QueryDataTable<Row, Sort>
          query={tokens}
          skeleton={<TableSkeleton rows={2} columns={5} />}
          testId="join-tokens-table"
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.id}
          empty={<EmptyState title="No join tokens yet" description="Create one, then run the enroll command it shows on the GPU node." />}
        />
      </CardContent>
    </Card>
  );
}
