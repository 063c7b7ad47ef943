'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import { toast } from 'sonner';
import { ZSiteFields, type TCreateSiteInput } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, QueryView, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Input } from '~/components/ui/input';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { useInvalidateSites } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

interface SiteLike {
  id: string;
  name: string;
  region: string;
  dataResidency: string;
}

function SiteFormDialog({ site, trigger }: { site?: SiteLike; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateSites = useInvalidateSites();
  const create = useMutation(trpc.sites.create.mutationOptions());
  const update = useMutation(trpc.sites.update.mutationOptions());
  return (
    <FormDialog<TCreateSiteInput, TCreateSiteInput, unknown>
      trigger={trigger}
      title={site ? `Edit ${site.name}` : 'New site'}
      description="A data centre or lab. Its data-residency tag says where model data may live."
      formLabel="Site form"
      schema={ZSiteFields}
      values={{ name: site?.name ?? '', region: site?.region ?? '', dataResidency: site?.dataResidency ?? '' }}
      submit={(v) => (site ? update.mutateAsync({ id: site.id, data: v }) : create.mutateAsync(v))}
      onSuccess={async () => {
        toast.success(site ? 'Site updated' : 'Site created');
        await invalidateSites();
      }}
      submitLabel={site ? 'Save changes' : 'Create site'}
    >
      {({ register, formState: { errors } }) => (
        <>
          <Field label="Name" htmlFor="site-name" error={errors.name?.message}>
            <Input id="site-name" aria-invalid={!!errors.name} {...register('name')} />
          </Field>
          <Field label="Region" htmlFor="site-region" error={errors.region?.message}>
            <Input id="site-region" placeholder="eu-central (Frankfurt)" aria-invalid={!!errors.region} {...register('region')} />
          </Field>
          <Field label="Data residency" htmlFor="site-residency" error={errors.dataResidency?.message}>
            <Input id="site-residency" placeholder="eu" aria-invalid={!!errors.dataResidency} {...register('dataResidency')} />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

export function SitesPage() {
  const trpc = useTRPC();
  const invalidateSites = useInvalidateSites();
  const canEdit = useCan('operator');
  const sites = useQuery(trpc.sites.list.queryOptions());
  const del = useMutation(trpc.sites.delete.mutationOptions());
  return (
    <div>
      <PageHeader
        title="Sites"
        description="Where clusters physically run."
        actions={
          canEdit ? (
            <SiteFormDialog
              trigger={
                <Button>
                  <Plus /> New site
                </Button>
              }
            />
          ) : null
        }
      />
      <QueryView
        query={sites}
        skeleton={<TableSkeleton columns={4} />}
        isEmpty={(rows) => rows.length === 0}
        empty={<EmptyState title="No sites yet" description="Create a site before adding clusters." />}
      >
        {(rows) => (
          <div className="rounded-lg border bg-card">
            <Table>
              <TableHeader>
                <TableRow>
                  <TableHead>Site</TableHead>
                  <TableHead>Region</TableHead>
                  <TableHead>Data residency</TableHead>
                  <TableHead>Clusters</TableHead>
                  {canEdit ? <TableHead /> : null}
                </TableRow>
              </TableHeader>
              <TableBody>
                {rows.map((s) => (
                  <TableRow key={s.id}>
                    <TableCell className="font-medium">{s.name}</TableCell>
                    <TableCell>{s.region}</TableCell>
                    <TableCell>{s.dataResidency}</TableCell>
                    <TableCell className="tabular-nums">{s._count.clusters}</TableCell>
                    {canEdit ? (
                      <TableCell className="text-right">
                        <SiteFormDialog
                          site={s}
                          trigger={
                            <Button variant="ghost" size="icon" aria-label={`Edit ${s.name}`}>
                              <Pencil />
                            </Button>
                          }
                        />
                        <ConfirmDialog
                          title={`Delete site ${s.name}?`}
                          description="Sites that still have clusters cannot be deleted."
                          confirmLabel="Delete site"
                          trigger={
                            <Button variant="ghost" size="icon" aria-label={`Delete ${s.name}`}>
                              <Trash2 />
                            </Button>
                          }
                          onConfirm={async () => {
                            await del.mutateAsync({ id: s.id });
                            toast.success(`Site ${s.name} deleted`);
                            await invalidateSites();
                          }}
                        />
                      </TableCell>
                    ) : null}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </QueryView>
    </div>
  );
}
