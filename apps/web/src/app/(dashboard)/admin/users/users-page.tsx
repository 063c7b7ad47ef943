'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Plus } from 'lucide-react';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import type { z } from 'zod';
import { ROLE_DESCRIPTIONS, ROLES, ZCreateUserInput, type TRole } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { applyServerErrors, Field } from '~/components/form-helpers';
import { useSessionUser } from '~/components/session-context';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input, NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';

type Row = RouterOutputs['users']['list']['items'][number];
type Sort = 'email' | 'name' | 'role' | 'createdAt';
const col = createColumnHelper<Row>();

function CreateUserDialog() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<z.input<typeof ZCreateUserInput>, unknown, z.output<typeof ZCreateUserInput>>({
    resolver: zodResolver(ZCreateUserInput),
    defaultValues: { email: '', name: '', role: 'viewer', password: '' },
    mode: 'onTouched',
  });
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async (u) => {
        toast.success(`User ${u.email} created`);
        setOpen(false);
        form.reset();
        await queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
      },
      onError: (e) => setFormError(applyServerErrors(e, form.setError, ['email', 'name', 'role', 'password'])),
    }),
  );
  const { errors } = form.formState;
  return (
    <Dialog open={open} onOpenChange={(o) => { setOpen(o); setFormError(null); }}>
      <DialogTrigger asChild>
        <Button>
          <Plus /> New user
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>New user</DialogTitle>
          <DialogDescription>Share the initial password with the person over a separate channel.</DialogDescription>
        </DialogHeader>
        <form noValidate className="grid gap-4" aria-label="User form" onSubmit={form.handleSubmit((v) => create.mutate(v))}>
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Email" htmlFor="user-email" error={errors.email?.message}>
            <Input id="user-email" type="email" aria-invalid={!!errors.email} {...form.register('email')} />
          </Field>
          <Field label="Name" htmlFor="user-name" error={errors.name?.message}>
            <Input id="user-name" aria-invalid={!!errors.name} {...form.register('name')} />
          </Field>
          <Field label="Role" htmlFor="user-role" error={errors.role?.message} hint={ROLE_DESCRIPTIONS[form.watch('role') as TRole]}>
            <NativeSelect id="user-role" {...form.register('role')}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Initial password" htmlFor="user-password" error={errors.password?.message} hint="At least 12 characters">
            <Input id="user-password" type="password" autoComplete="new-password" aria-invalid={!!errors.password} {...form.register('password')} />
          </Field>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending}>
              Create user
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function UsersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useSessionUser();
  const [state, setState] = useState<{ page: number; pageSize: number; sortBy: Sort; sortDir: 'asc' | 'desc'; search?: string }>({ page: 1, pageSize: 25, sortBy: 'email', sortDir: 'asc' });
  const users = useQuery({ ...trpc.users.list.queryOptions({ ...state, search: state.search || undefined }), placeholderData: keepPreviousData });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
  const setRole = useMutation(trpc.users.setRole.mutationOptions({ onSuccess: async (u) => { toast.success(`${u.email} is now ${u.role}`); await invalidate(); }, onError: (e) => toast.error(e.message) }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onSuccess: async () => { toast.success('Account updated'); await invalidate(); }, onError: (e) => toast.error(e.message) }));

  const columns = [
    col.accessor('email', { header: 'Email', cell: (c) => <span className="font-medium">{c.getValue()}</span> }),
    col.accessor('name', { header: 'Name' }),
    col.accessor('role', {
      header: 'Role',
      cell: (c) => (
        <NativeSelect
          aria-label={`Role of ${c.row.original.email}`}
          className="h-8 w-32"
          value={c.getValue()}
          disabled={setRole.isPending}
          onChange={(e) => setRole.mutate({ userId: c.row.original.id, role: e.target.value as TRole })}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </NativeSelect>
      ),
    }),
    col.display({
      id: 'status',
      header: 'Status',
      cell: (c) => (c.row.original.disabledAt ? <Badge variant="critical">disabled</Badge> : <Badge variant="healthy">active · {c.row.original.activeSessions} session(s)</Badge>),
    }),
    col.accessor('createdAt', { header: 'Created', cell: (c) => <span className="text-muted-foreground">{formatDateTime(c.getValue())}</span> }),
    col.display({
      id: 'actions',
      header: '',
      cell: (c) =>
        c.row.original.id === me.id ? (
          <span className="text-xs text-muted-foreground">you</span>
        ) : (
          <Button variant="outline" size="sm" onClick={() => setDisabled.mutate({ userId: c.row.original.id, disabled: !c.row.original.disabledAt })}>
            {c.row.original.disabledAt ? 'Enable' : 'Disable'}
          </Button>
        ),
    }),
  ];

  return (
    <div>
      <PageHeader title="Users" description="Who can sign in, and what they may do." actions={<CreateUserDialog />} />
      <Input aria-label="Search users" placeholder="Search by email or name…" className="mb-3 max-w-xs" value={state.search ?? ''} onChange={(e) => setState({ ...state, page: 1, search: e.target.value })} />
      <QueryDataTable<Row, Sort>
        query={users}
        skeleton={<TableSkeleton columns={5} />}
        testId="users-table"
        columns={columns}
        state={state}
        onStateChange={(n) => setState({ ...state, ...n })}
        getRowId={(r) => r.id}
        empty={<EmptyState title="No users match" />}
      />
    </div>
  );
}
