'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Copy, KeyRound, Plus } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { agentEnrollCommand, type TJoinTokenStatus } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { Field } from '~/components/form-helpers';
import { RevokeButton } from '~/components/revoke-button';
import { EmptyState, QueryView, TableSkeleton } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input, NativeSelect } from '~/components/ui/input';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { RelativeTime } from '../../_components/relative-time';

type Created = RouterOutputs['joinTokens']['create'];

const VALIDITY = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 24 * 60, label: '24 hours' },
  { minutes: 7 * 24 * 60, label: '7 days' },
];

const STATUS_VARIANT: Record<TJoinTokenStatus, 'healthy' | 'secondary' | 'unknown' | 'critical'> = { active: 'healthy', used: 'secondary', expired: 'unknown', revoked: 'critical' };

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
        <AlertDescription>This is the only time the token is shown. It works once, until {formatDateTime(created.expiresAt)}.</AlertDescription>
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
            onClick={async () => (await copyText(command)) ? toast.success('Command copied') : toast.message('Select the command and copy it by hand')}
          >
            <Copy />
          </Button>
        </div>
      </div>
      <p className="text-xs text-muted-foreground">
        Then start reporting with <code className="font-mono">fleetplane-agent run</code>. The node appears in this cluster under its hostname.
      </p>
    </div>
  );
}

function CreateTokenDialog({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [minutes, setMinutes] = useState(60);
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<Created | null>(null);
  const create = useMutation(
    trpc.joinTokens.create.mutationOptions({
      onSuccess: async (token) => {
        setCreated(token);
        await queryClient.invalidateQueries({ queryKey: trpc.joinTokens.pathKey() });
      },
    }),
  );
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) {
          setCreated(null);
          setDescription('');
          create.reset();
        }
      }}
    >
      <DialogTrigger asChild>
        <Button size="sm">
          <Plus /> Create join token
        </Button>
      </DialogTrigger>
      <DialogContent className="max-w-xl">
        <DialogHeader>
          <DialogTitle>{created ? 'Join token created' : 'Create a join token'}</DialogTitle>
          <DialogDescription>A one-time token lets one GPU node enroll its agent into this cluster.</DialogDescription>
        </DialogHeader>
        {created ? (
          <CreatedToken created={created} />
        ) : (
          <form
            aria-label="Join token form"
            className="grid gap-4"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate({ clusterId, expiresInMinutes: minutes, description });
            }}
          >
            {create.error ? (
              <Alert variant="destructive">
                <AlertDescription>{create.error.message}</AlertDescription>
              </Alert>
            ) : null}
            <Field label="Valid for" htmlFor="token-validity" hint="Unused tokens stop working after this.">
              <NativeSelect id="token-validity" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
                {VALIDITY.map((v) => (
                  <option key={v.minutes} value={v.minutes}>
                    {v.label}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="Description" htmlFor="token-description" hint="Optional, e.g. the rack or ticket">
              <Input id="token-description" maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
            </Field>
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" disabled={create.isPending}>
                {create.isPending ? 'Creating…' : 'Create token'}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}

/** Operators enroll nodes here: create a one-time token, copy the command, revoke tokens not used yet. */
export function JoinTokensPanel({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.joinTokens.list.queryOptions({ clusterId }));
  const revoke = useMutation(trpc.joinTokens.revoke.mutationOptions());
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
        <QueryView
          query={tokens}
          skeleton={<TableSkeleton rows={2} columns={5} />}
          isEmpty={(rows) => rows.length === 0}
          empty={<EmptyState title="No join tokens yet" description="Create one, then run the enroll command it shows on the GPU node." />}
        >
          {(rows) => (
            <div className="rounded-lg border">
              <Table data-testid="join-tokens-table">
                <TableHeader>
                  <TableRow>
                    <TableHead>Token</TableHead>
                    <TableHead>Status</TableHead>
                    <TableHead>Expires</TableHead>
                    <TableHead>Created</TableHead>
                    <TableHead>Used by</TableHead>
                    <TableHead />
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {rows.map((t) => (
                    <TableRow key={t.id}>
                      <TableCell>
                        <span className="font-mono text-xs">{t.tokenPrefix}…</span>
                        {t.description ? <p className="text-xs text-muted-foreground">{t.description}</p> : null}
                      </TableCell>
                      <TableCell>
                        <Badge variant={STATUS_VARIANT[t.status]}>{t.status}</Badge>
                      </TableCell>
                      <TableCell className="text-xs tabular-nums">{formatDateTime(t.expiresAt)}</TableCell>
                      <TableCell className="text-xs text-muted-foreground">
                        <RelativeTime date={t.createdAt} />
                        {t.createdBy ? ` by ${t.createdBy}` : ''}
                      </TableCell>
                      <TableCell className="text-xs">
                        {t.usedByNode ? (
                          <Link className="text-primary hover:underline" href={`/nodes/${t.usedByNode.id}`}>
                            {t.usedByNode.hostname}
                          </Link>
                        ) : (
                          '—'
                        )}
                      </TableCell>
                      <TableCell className="text-right">
                        {t.status === 'active' ? (
                          <RevokeButton
                            noun="token"
                            prefix={t.tokenPrefix}
                            title="Revoke this join token?"
                            description={`Token ${t.tokenPrefix}… stops working at once. Nodes already enrolled are not affected.`}
                            revoke={() => revoke.mutateAsync({ id: t.id })}
                            refresh={() => queryClient.invalidateQueries({ queryKey: trpc.joinTokens.pathKey() })}
                          />
                        ) : null}
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </div>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}
