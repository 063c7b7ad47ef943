'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { toast } from 'sonner';
import { PageHeader } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateNetworkPolicy } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

/** Admin settings. Today: the network policy for outgoing requests (Hub, validation endpoints, alert webhooks). */
export function SettingsPage() {
  const trpc = useTRPC();
  const invalidateNetworkPolicy = useInvalidateNetworkPolicy();
  const policy = useQuery(trpc.networkPolicy.get.queryOptions());
  const update = useMutation(
    trpc.networkPolicy.update.mutationOptions({
      onSuccess: async (r) => {
        toast.success(
          r.allowLoopback
            ? 'Loopback and the control plane’s own services may now be reached'
            : 'Loopback and the control plane’s own services are refused again',
        );
        await invalidateNetworkPolicy();
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  const allow = policy.data?.allowLoopback ?? false;

  return (
    <div>
      <PageHeader title="Settings" description="Settings that apply to the whole installation. Every change is written to the audit log." />
      <Card>
        <CardHeader>
          <CardTitle>Network policy for outgoing requests</CardTitle>
          <CardDescription>
            Hub checks and downloads, validation endpoints and alert webhooks connect only to addresses this policy allows. Host names are
            resolved and every address is checked right before connecting, on every redirect too.
          </CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          <ul className="list-disc pl-5 text-sm text-muted-foreground">
            <li>
              Link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, …) are always refused.
            </li>
            <li>Private network addresses (10.0.0.0/8, 192.168.0.0/16, …) are allowed: inference endpoints live there.</li>
          </ul>
          <label className="flex items-start gap-2 text-sm">
            <input
              type="checkbox"
              className="mt-1"
              data-testid="allow-loopback"
              checked={allow}
              disabled={policy.isLoading || update.isPending}
              onChange={(e) => update.mutate({ allowLoopback: e.target.checked })}
            />
            <span>
              <span className="font-medium">Allow loopback and the control plane’s own Postgres and Redis</span>
              <span className="block text-muted-foreground">
                For demos and tests whose Hub, endpoints or webhook receivers run on this machine. Leave it off in production: anyone who
                may edit a repo, cluster or webhook URL could otherwise make the control plane talk to services on its own host.
              </span>
            </span>
          </label>
          {allow ? (
            <Alert>
              <AlertDescription>Loopback is allowed. Turn it off unless this installation is a demo or a test.</AlertDescription>
            </Alert>
          ) : null}
          {policy.data?.updatedAt ? (
            <p className="text-xs text-muted-foreground">Last changed {formatDateTime(policy.data.updatedAt)}</p>
          ) : null}
        </CardContent>
      </Card>
    </div>
  );
}
