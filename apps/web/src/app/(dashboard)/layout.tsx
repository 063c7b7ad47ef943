import { redirect } from 'next/navigation';
import { AppShell } from '~/components/app-shell';
import { SessionProvider } from '~/components/session-context';
import { requestSessionUser } from '~/server/session';

export const dynamic = 'force-dynamic';

// Redirecting here is for the user's convenience only; every tRPC procedure checks the role itself.
export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requestSessionUser();
  if (!user) redirect('/sign-in');
  return (
    <SessionProvider user={user}>
      <AppShell>{children}</AppShell>
    </SessionProvider>
  );
}
