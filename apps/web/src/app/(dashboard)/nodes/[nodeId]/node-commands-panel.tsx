'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { ListChecks } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import type { RouterOutputs } from '@fleetplane/api';
import { NODE_COMMAND_KINDS } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { QueryDataTable, type TableQueryState } from '~/components/data-table';
import { NodeCommandStateBadge } from '~/components/nodes/node-command-badges';
import { RelativeTime } from '~/components/relative-time';
import { useCan } from '~/components/session-context';
import { EmptyState, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { NativeSelect } from '~/components/ui/input';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { commandBytesMoved, commandDuration, commandOrigin, commandProgressPercent, commandProgressText } from '~/lib/node-command-format';
import { useInvalidateNodeCommands } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type Row = RouterOutputs['nodeCommands']['list']['items'][number];
type Sort = 'issuedAt' | 'kind' | 'state' | 'finishedAt';
const col = createColumnHelper<Row>();

const OPEN_STATES = ['queued', 'delivered', 'running'] as const;
const isOpen = (state: string) => (OPEN_STATES as readonly string[]).includes(state);
// The state filter: "active" is the open states together; the others are one terminal state each.
const STATE_FILTERS = {
  '': undefined,
  active: [...OPEN_STATES],
  succeeded: ['succeeded'],
  failed: ['failed'],
  cancelled: ['cancelled'],
  expired: ['expired'],
} as const;
type StateFilter = keyof typeof STATE_FILTERS;
const kindLabel = (k: string) => k.replace(/_/g, ' ');

/**
 * The commands sent to one node (prefetch, load, restart, stop, evict), newest first, with the agent's live
 * progress. The list polls fast while a command is open, since the agent reports progress every few seconds.
 */
export function NodeCommandsPanel({ nodeId, hostname }: { nodeId: string; hostname: string }) {
  const trpc = useTRPC();
  const canCancel = useCan('operator');
  const invalidate = useInvalidateNodeCommands();
  const [state, setState] = useState<TableQueryState<Sort>>({ page: 1, pageSize: 10, sortBy: 'issuedAt', sortDir: 'desc' });
  const [stateFilter, setStateFilter] = useState<StateFilter>('');
  const [kind, setKind] = useState<(typeof NODE_COMMAND_KINDS)[number] | ''>('');
  const states = STATE_FILTERS[stateFilter];
  const input = { ...state, nodeId, ...(states ? { states: [...states] } : {}), ...(kind ? { kind } : {}) };
  const commands = useQuery({
    ...trpc.nodeCommands.list.queryOptions(input),
    placeholderData: (prev) => prev,
    refetchInterval: (q) => (q.state.data?.items.some((c) => isOpen(c.state)) ? 1_500 : LIVE_REFRESH_MS),
  });
  const cancel = useMutation(trpc.nodeCommands.cancel.mutationOptions());

  const columns = [
    col.accessor('issuedAt', {
      header: 'Issued',
      enableSorting: true,
      cell: (c) => (
        <span className="text-xs text-muted-foreground">
          <RelativeTime date={c.getValue()} />
        </span>
      ),
    }),
    col.accessor('kind', {
      header: 'Command',
      enableSorting: true,
      cell: (c) => <span className="font-medium">{kindLabel(c.getValue())}</span>,
    }),
    col.accessor('state', { header: 'State', enableSorting: true, cell: (c) => <NodeCommandStateBadge state={c.getValue()} /> }),
    col.display({
      id: 'progress',
      header: 'Progress',
      cell: (c) => {
        const r = c.row.original;
        // A finished command's last report is a past phase ("starting …"); only its bytes still say something.
        const text = isOpen(r.state) ? commandProgressText(r.progress) : commandBytesMoved(r.progress);
        const pct = commandProgressPercent(r.progress);
        if (!text) return <span className="text-muted-foreground">—</span>;
        return (
          <div className="min-w-40 space-y-1" data-testid="command-progress">
            <p className="text-xs tabular-nums">{text}</p>
            {pct !== null && isOpen(r.state) ? (
              <div
                className="h-1.5 w-full overflow-hidden rounded bg-muted"
                role="progressbar"
                aria-label={`${kindLabel(r.kind)} progress`}
                aria-valuenow={pct}
                aria-valuemin={0}
                aria-valuemax={100}
              >
                <div className="h-full bg-primary" style={{ width: `${pct}%` }} />
              </div>
            ) : null}
          </div>
        );
      },
    }),
    col.display({
      id: 'origin',
      header: 'Origin',
      cell: (c) => {
        const o = commandOrigin(c.row.original.origin, c.row.original.issuedBy);
        return o.href ? (
          <Link className="text-primary underline-offset-2 hover:underline" href={o.href}>
            {o.label}
          </Link>
        ) : (
          <span>{o.label}</span>
        );
      },
    }),
    col.accessor('finishedAt', {
      header: 'Finished',
      enableSorting: true,
      cell: (c) => {
        const r = c.row.original;
        return (
          <span className="text-xs text-muted-foreground">
            {r.finishedAt ? <RelativeTime date={r.finishedAt} /> : r.startedAt ? 'running' : 'not started'} · {commandDuration(r)}
          </span>
        );
      },
    }),
    col.accessor('error', {
      header: 'Error',
      enableSorting: false,
      cell: (c) =>
        c.getValue() ? (
          <span className="block max-w-xs break-words text-xs text-critical-foreground" data-testid="command-error">
            {c.getValue()}
          </span>
        ) : (
          <span className="text-muted-foreground">—</span>
        ),
    }),
    ...(canCancel
      ? [
          col.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            cell: (c) => {
              const r = c.row.original;
              if (!isOpen(r.state)) return null;
              return (
                <div className="text-right">
                  <ConfirmDialog
                    title={`Cancel ${kindLabel(r.kind)} on ${hostname}?`}
                    description="The agent stops the command at its next poll or report. A rollout or pipeline waiting for it sees it as cancelled. The cancellation is recorded in the audit log."
                    confirmLabel="Cancel command"
                    trigger={
                      <Button variant="ghost" size="sm" aria-label={`Cancel ${kindLabel(r.kind)} command`}>
                        Cancel
                      </Button>
                    }
                    onConfirm={async () => {
                      await cancel.mutateAsync({ id: r.id });
                      toast.success(`${kindLabel(r.kind)} cancelled`);
                      await invalidate();
                    }}
                  />
                </div>
              );
            },
          }),
        ]
      : []),
  ];

  return (
    <Card data-testid="node-commands">
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <ListChecks className="size-4 text-primary" /> Commands
        </CardTitle>
        <CardDescription>
          What the control plane asked this node&apos;s agent to do, newest first, with the agent&apos;s progress.
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-3">
        <div className="flex flex-wrap items-center gap-2">
          <label htmlFor="command-state" className="text-sm text-muted-foreground">
            State
          </label>
          <NativeSelect
            id="command-state"
            className="w-36"
            value={stateFilter}
            onChange={(e) => {
              setStateFilter(e.target.value as StateFilter);
              setState({ ...state, page: 1 });
            }}
          >
            <option value="">All</option>
            {Object.keys(STATE_FILTERS)
              .filter(Boolean)
              .map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
          </NativeSelect>
          <label htmlFor="command-kind" className="ml-2 text-sm text-muted-foreground">
            Command
          </label>
          <NativeSelect
            id="command-kind"
            className="w-44"
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as typeof kind);
              setState({ ...state, page: 1 });
            }}
          >
            <option value="">All</option>
            {NODE_COMMAND_KINDS.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </NativeSelect>
        </div>
        <QueryDataTable<Row, Sort>
          query={commands}
          skeleton={<TableSkeleton rows={3} columns={6} />}
          testId="node-commands-table"
          columns={columns}
          state={state}
          onStateChange={setState}
          getRowId={(r) => r.id}
          empty={
            <EmptyState
              title={stateFilter || kind ? 'No commands match these filters' : 'No commands sent to this node yet'}
              description="Rollouts, pipelines and operators send commands (prefetch, load, restart, stop, evict); they appear here with their progress."
            />
          }
        />
      </CardContent>
    </Card>
  );
}
