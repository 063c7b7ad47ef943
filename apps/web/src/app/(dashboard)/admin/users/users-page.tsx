'use client';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Plus } from 'lucide-react';
import { useState } from 'react';
import { toast } from 'sonner';
import type { z } from 'zod';
import { ROLE_DESCRIPTIONS, ROLES, ZCreateUserInput, type TRole } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable } from '~/components/data-table';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { useSessionUser } from '~/components/session-context';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Input, NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateUsers } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { countOf } from '@fleetplane/domain';

type Row = RouterOutputs['users']['list']['items'][number];
type Sort = 'email' | 'name' | 'role' | 'createdAt';
const col = createColumnHelper<Row>();

type UserFormIn = z.input<typeof ZCreateUserInput>;
const NEW_USER: UserFormIn = { email: '', name: '', role: 'viewer', password: '' };

function CreateUserDialog() {
  const trpc = useTRPC();
  const invalidateUsers = useInvalidateUsers();
  const create = useMutation(trpc.users.create.mutationOptions());
  return (
    <FormDialog<UserFormIn, z.output<typeof ZCreateUserInput>, { email: string }>
      trigger={
        <Button>
          <Plus /> New user
        </Button>
      }
      title="New user"
      description="Share the initial password with the person over a separate channel."
      formLabel="User form"
      schema={ZCreateUserInput}
      values={NEW_USER}
      submit={(v) => create.mutateAsync(v)}
      onSuccess={async (u) => {
        toast.success(`User ${u.email} created`);
        await invalidateUsers();
      }}
      submitLabel="Create user"
      pendingLabel="Create user"
    >
      {({ register, watch, formState: { errors } }) => (
        <>
          <Field label="Email" htmlFor="user-email" error={errors.email?.message}>
            <Input id="user-email" type="email" aria-invalid={!!errors.email} {...register('email')} />
          </Field>
          <Field label="Name" htmlFor="user-name" error={errors.name?.message}>
            <Input id="user-name" aria-invalid={!!errors.name} {...register('name')} />
          </Field>
          <Field label="Role" htmlFor="user-role" error={errors.role?.message} hint={ROLE_DESCRIPTIONS[watch('role') as TRole]}>
            <NativeSelect id="user-role" {...register('role')}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Initial password" htmlFor="user-password" error={errors.password?.message} hint="At least 12 characters">
            <Input
              id="user-password"
              type="password"
              autoComplete="new-password"
              aria-invalid={!!errors.password}
              {...register('password')}
            />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

export function UsersPage() {
  const trpc = useTRPC();
  const invalidate = useInvalidateUsers();
  const me = useSessionUser();
  const [state, setState] = useState<{ page: number; pageSize: number; sortBy: Sort; sortDir: 'asc' | 'desc'; search?: string }>({
    page: 1,
    pageSize: 25,
    sortBy: 'email',
    sortDir: 'asc',
  });
  const users = useQuery({
    ...trpc.users.list.queryOptions({ ...state, search: state.search || undefined }),
    placeholderData: keepPreviousData,
  });
  const setRole = useMutation(
    trpc.users.setRole.mutationOptions({
      onSuccess: async (u) => {
        toast.success(`${u.email} is now ${u.role}`);
        await invalidate();
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  const setDisabled = useMutation(
    trpc.users.setDisabled.mutationOptions({
      onSuccess: async () => {
        toast.success('Account updated');
        await invalidate();
      },
      onError: (e) => toast.error(e.message),
    }),
  );

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
      cell: (c) =>
        c.row.original.disabledAt ? (
          <Badge variant="critical">disabled</Badge>
        ) : (
          <Badge variant="healthy">active · {countOf(c.row.original.activeSessions, 'session')}</Badge>
        ),
    }),
    col.accessor('createdAt', {
      header: 'Created',
      cell: (c) => <span className="text-muted-foreground">{formatDateTime(c.getValue())}</span>,
    }),
    col.display({
      id: 'actions',
      header: '',
      cell: (c) =>
        c.row.original.id === me.id ? (
          <span className="text-xs text-muted-foreground">you</span>
        ) : (
          <Button
            variant="outline"
            size="sm"
            onClick={() => setDisabled.mutate({ userId: c.row.original.id, disabled: !c.row.original.disabledAt })}
          >
            {c.row.original.disabledAt ? 'Enable' : 'Disable'}
          </Button>
        ),
    }),
  ];

  return (
    <div>
      <PageHeader title="Users" description="Who can sign in, and what they may do." actions={<CreateUserDialog />} />
      <Input
        aria-label="Search users"
        placeholder="Search by email or name…"
        className="mb-3 max-w-xs"
        value={state.search ?? ''}
        onChange={(e) => setState({ ...state, page: 1, search: e.target.value })}
      />
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
