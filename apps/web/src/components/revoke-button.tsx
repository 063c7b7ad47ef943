'use client';
import { toast } from 'sonner';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { Button } from '~/components/ui/button';

/**
 * "Revoke" on a row of a secret list (join tokens, agent credentials): confirm, revoke, say so, refresh.
 * Secrets are named by their stored prefix only; the secret itself never reaches the browser again.
 */
export function RevokeButton({
  noun,
  prefix,
  title,
  description,
  revoke,
  refresh,
}: {
  noun: 'token' | 'credential';
  prefix: string;
  title: string;
  description: string;
  revoke: () => Promise<unknown>;
  refresh: () => Promise<unknown>;
}) {
  return (
    <ConfirmDialog
      title={title}
      description={description}
      confirmLabel={`Revoke ${noun}`}
      trigger={
        <Button variant="ghost" size="sm" aria-label={`Revoke ${noun} ${prefix}`}>
          Revoke
        </Button>
      }
      onConfirm={async () => {
        await revoke();
        toast.success(`${noun === 'token' ? 'Token' : 'Credential'} ${prefix}… revoked`);
        await refresh();
      }}
    />
  );
}
