'use client';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import { PageHeader } from '~/components/states';
import { useCan } from '~/components/session-context';
import { Button } from '~/components/ui/button';
import { ClustersTable } from '~/components/clusters/clusters-table';
import { ClusterFormDialog } from './cluster-form-dialog';
import { DeleteClusterButton } from './delete-cluster-button';

export function ClustersPage() {
  const canEdit = useCan('operator');
  return (
    <div>
      <PageHeader
        title="Clusters"
        description="Each cluster is one serving deployment: an engine, an endpoint and the nodes behind it."
        actions={
          canEdit ? (
            <ClusterFormDialog
              trigger={
                <Button>
                  <Plus /> New cluster
                </Button>
              }
            />
          ) : null
        }
      />
      <ClustersTable
        actions={
          canEdit
            ? (row) => (
                <>
                  <ClusterFormDialog
                    clusterId={row.id}
                    trigger={
                      <Button variant="ghost" size="icon" aria-label={`Edit ${row.name}`}>
                        <Pencil />
                      </Button>
                    }
                  />
                  <DeleteClusterButton id={row.id} name={row.name}>
                    <Button variant="ghost" size="icon" aria-label={`Delete ${row.name}`}>
                      <Trash2 />
                    </Button>
                  </DeleteClusterButton>
                </>
              )
            : undefined
        }
      />
    </div>
  );
}
