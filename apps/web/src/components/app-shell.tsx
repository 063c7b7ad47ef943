'use client';
import {
  Activity,
  Boxes,
  FlaskConical,
  LayoutDashboard,
  Library,
  LogOut,
  MapPin,
  Menu,
  ScrollText,
  Settings,
  Users,
  X,
} from 'lucide-react';
import { Bell } from 'lucide-react';
import { Calculator, CircleDollarSign, Cpu, FlaskRound, Rocket, ShieldCheck, Workflow } from 'lucide-react';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { Dialog as DialogPrimitive } from 'radix-ui';
import { useEffect, useState } from 'react';
import type { TRole } from '@fleetplane/contracts';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { authClient } from '~/lib/auth-client';
import { cn } from '~/lib/utils';
import { useCan, useSessionUser } from './session-context';

interface NavItem {
  href: string;
  label: string;
  icon: React.ComponentType<{ className?: string }>;
  minRole: TRole;
}

const NAV: { section: string; items: NavItem[] }[] = [
  {
    section: 'Fleet',
    items: [
      { href: '/', label: 'Overview', icon: LayoutDashboard, minRole: 'viewer' },
      { href: '/clusters', label: 'Clusters', icon: Boxes, minRole: 'viewer' },
      { href: '/alerts', label: 'Alerts', icon: Bell, minRole: 'viewer' },
      { href: '/sites', label: 'Sites', icon: MapPin, minRole: 'viewer' },
      { href: '/validation', label: 'Validation', icon: FlaskConical, minRole: 'viewer' },
      { href: '/models', label: 'Models', icon: Cpu, minRole: 'viewer' },
      { href: '/pipelines', label: 'Pipelines', icon: Workflow, minRole: 'viewer' },
      { href: '/proposals', label: 'Proposals', icon: ShieldCheck, minRole: 'viewer' },
      { href: '/recipes', label: 'Recipes', icon: FlaskRound, minRole: 'viewer' },
      { href: '/rollouts', label: 'Rollouts', icon: Rocket, minRole: 'viewer' },
      { href: '/planner', label: 'Planner', icon: Calculator, minRole: 'viewer' },
      { href: '/cost', label: 'Cost', icon: CircleDollarSign, minRole: 'viewer' },
      { href: '/catalogs', label: 'Catalogs', icon: Library, minRole: 'viewer' },
    ],
  },
  {
    section: 'Admin',
    items: [
      { href: '/admin/users', label: 'Users', icon: Users, minRole: 'admin' },
      { href: '/admin/audit', label: 'Audit log', icon: ScrollText, minRole: 'admin' },
      { href: '/admin/settings', label: 'Settings', icon: Settings, minRole: 'admin' },
    ],
  },
];

function NavLink({ item, onNavigate }: { item: NavItem; onNavigate?: () => void }) {
  const pathname = usePathname();
  const allowed = useCan(item.minRole);
  if (!allowed) return null;
  const active = item.href === '/' ? pathname === '/' : pathname.startsWith(item.href);
  const Icon = item.icon;
  return (
    <Link
      href={item.href}
      onClick={onNavigate}
      className={cn(
        'flex items-center gap-2.5 rounded-md px-3 py-2 text-sm text-sidebar-foreground transition-colors hover:bg-white/10 hover:text-white',
        active && 'bg-white/10 font-medium text-white',
      )}
      aria-current={active ? 'page' : undefined}
    >
      <Icon className="size-4" />
      {item.label}
    </Link>
  );
}

function SidebarContent({ onNavigate }: { onNavigate?: () => void }) {
  const isAdmin = useCan('admin');
  return (
    <>
      <Link href="/" className="mb-6 flex items-center gap-2 px-3" onClick={onNavigate}>
        <span className="flex size-8 items-center justify-center rounded-lg bg-primary font-bold text-white">F</span>
        <span className="text-base font-semibold text-white">Fleetplane</span>
      </Link>
      <nav className="flex flex-1 flex-col gap-5" aria-label="Main">
        {NAV.filter((s) => s.section !== 'Admin' || isAdmin).map((section) => (
          <div key={section.section} className="flex flex-col gap-0.5">
            <p className="px-3 pb-1 text-[11px] font-semibold uppercase tracking-wider text-sidebar-muted-foreground">{section.section}</p>
            {section.items.map((item) => (
              <NavLink key={item.href} item={item} onNavigate={onNavigate} />
            ))}
          </div>
        ))}
      </nav>
      <div className="flex items-center gap-2 px-3 text-xs text-sidebar-muted-foreground">
        <Activity className="size-3.5" /> DeepSeek V4 fleet control
      </div>
    </>
  );
}

export function AppShell({ children }: { children: React.ReactNode }) {
  const user = useSessionUser();
  const router = useRouter();
  const pathname = usePathname();
  // On narrow screens (an on-call phone) the sidebar becomes a drawer behind a menu button.
  const [drawerOpen, setDrawerOpen] = useState(false);
  // Back/forward navigation closes it too, not only a click on one of its links.
  useEffect(() => setDrawerOpen(false), [pathname]);
  return (
    <div className="flex min-h-screen">
      <aside className="sticky top-0 hidden h-screen w-60 shrink-0 flex-col bg-sidebar px-3 py-4 md:flex">
        <SidebarContent />
      </aside>
      {/* Radix's dialog gives the drawer its focus trap, Escape and outside-click closing. */}
      <DialogPrimitive.Root open={drawerOpen} onOpenChange={setDrawerOpen}>
        <DialogPrimitive.Portal>
          <DialogPrimitive.Overlay className="fixed inset-0 z-50 bg-black/50 md:hidden" />
          <DialogPrimitive.Content
            className="fixed inset-y-0 left-0 z-50 flex w-64 flex-col bg-sidebar px-3 py-4 shadow-xl md:hidden"
            aria-describedby={undefined}
          >
            <DialogPrimitive.Title className="sr-only">Navigation</DialogPrimitive.Title>
            <DialogPrimitive.Close
              className="absolute right-3 top-4 rounded-md p-1 text-sidebar-foreground hover:bg-white/10 hover:text-white"
              aria-label="Close navigation"
            >
              <X className="size-5" />
            </DialogPrimitive.Close>
            <SidebarContent onNavigate={() => setDrawerOpen(false)} />
          </DialogPrimitive.Content>
        </DialogPrimitive.Portal>
      </DialogPrimitive.Root>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center justify-end gap-3 border-b bg-card/80 px-4 backdrop-blur md:px-6">
          <Button variant="ghost" size="sm" className="mr-auto md:hidden" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
            <Menu />
          </Button>
          <div className="hidden text-right leading-tight sm:block">
            <p className="text-sm font-medium" data-testid="current-user">
              {user.email}
            </p>
          </div>
          <Badge variant="secondary" data-testid="current-role">
            {user.role}
          </Badge>
          <Button
            variant="ghost"
            size="sm"
            onClick={async () => {
              await authClient.signOut();
              router.replace('/sign-in');
              router.refresh();
            }}
          >
            <LogOut /> Sign out
          </Button>
        </header>
        <main className="mx-auto w-full max-w-7xl flex-1 p-4 md:p-6">{children}</main>
      </div>
    </div>
  );
}
