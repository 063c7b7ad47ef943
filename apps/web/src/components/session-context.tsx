'use client';
import { createContext, useContext } from 'react';
import { ROLES, type TRole } from '@fleetplane/contracts';

export interface ClientSessionUser {
  id: string;
  email: string;
  name: string;
  role: TRole;
}

const SessionContext = createContext<ClientSessionUser | null>(null);

export function SessionProvider({ user, children }: { user: ClientSessionUser; children: React.ReactNode }) {
  return <SessionContext.Provider value={user}>{children}</SessionContext.Provider>;
}

export function useSessionUser(): ClientSessionUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error('useSessionUser outside SessionProvider');
  return user;
}

/** UI-only convenience to hide controls; the API enforces the same rule on every call. */
export function useCan(minRole: TRole): boolean {
  const user = useSessionUser();
  return ROLES.indexOf(user.role) >= ROLES.indexOf(minRole);
}
