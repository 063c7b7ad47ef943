'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { ZSiteFields, type TCreateSiteInput } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { applyServerErrors, Field } from '~/components/form-helpers';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, QueryView, TableSkeleton } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input } from '~/components/ui/input';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { useTRPC } from '~/trpc/react';

interface SiteLike {
  id: string;
  name: string;
  region: string;
  dataResidency: string;
}

function SiteFormDialog({ site, trigger }: { site?: SiteLike; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<TCreateSiteInput>({ resolver: zodResolver(ZSiteFields), mode: 'onTouched' });
  useEffect(() => {
    if (open) {
      setFormError(null);
      form.reset({ name: site?.name ?? '', region: site?.region ?? '', dataResidency: site?.dataResidency ?? '' });
    }
  }, [open, site, form]);
  const done = async () => {
    toast.success(site ? 'Site updated' : 'Site created');
    setOpen(false);
    await queryClient.invalidateQueries({ queryKey: trpc.sites.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.clusters.pathKey() });
  };
  const onError = (e: Parameters<typeof applyServerErrors>[0]) => setFormError(applyServerErrors(e, form.setError, ['name', 'region', 'dataResidency']));
  const create = useMutation(trpc.sites.create.mutationOptions({ onSuccess: done, onError }));
  const update = useMutation(trpc.sites.update.mutationOptions({ onSuccess: done, onError }));
  const { errors } = form.formState;
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{site ? `Edit ${site.name}` : 'New site'}</DialogTitle>
          <DialogDescription>A data centre or lab. Its data-residency tag says where model data may live.</DialogDescription>
        </DialogHeader>
        <form noValidate className="grid gap-4" aria-label="Site form" onSubmit={form.handleSubmit((v) => (site ? update.mutate({ id: site.id, data: v }) : create.mutate(v)))}>
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Name" htmlFor="site-name" error={errors.name?.message}>
            <Input id="site-name" aria-invalid={!!errors.name} {...form.register('name')} />
          </Field>
          <Field label="Region" htmlFor="site-region" error={errors.region?.message}>
            <Input id="site-region" placeholder="eu-central (Frankfurt)" aria-invalid={!!errors.region} {...form.register('region')} />
          </Field>
          <Field label="Data residency" htmlFor="site-residency" error={errors.dataResidency?.message}>
            <Input id="site-residency" placeholder="eu" aria-invalid={!!errors.dataResidency} {...form.register('dataResidency')} />
          </Field>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending || update.isPending}>
              {site ? 'Save changes' : 'Create site'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function SitesPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = useCan('operator');
  const sites = useQuery(trpc.sites.list.queryOptions());
  const del = useMutation(trpc.sites.delete.mutationOptions());
  return (
    <div>
      <PageHeader title="Sites" description="Where clusters physically run." actions={canEdit ? <SiteFormDialog trigger={<Button><Plus /> New site</Button>} /> : null} />
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
                        <SiteFormDialog site={s} trigger={<Button variant="ghost" size="icon" aria-label={`Edit ${s.name}`}><Pencil /></Button>} />
                        <ConfirmDialog
                          title={`Delete site ${s.name}?`}
                          description="Sites that still have clusters cannot be deleted."
                          confirmLabel="Delete site"
                          trigger={<Button variant="ghost" size="icon" aria-label={`Delete ${s.name}`}><Trash2 /></Button>}
                          onConfirm={async () => {
                            await del.mutateAsync({ id: s.id });
                            toast.success(`Site ${s.name} deleted`);
                            await queryClient.invalidateQueries({ queryKey: trpc.sites.pathKey() });
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
