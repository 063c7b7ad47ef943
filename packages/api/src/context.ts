import type { TRole } from '@fleetplane/contracts';
import type { ServiceDeps } from '@fleetplane/services';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: TRole;
}

/** What the app hands the API per process: exactly the service layer's dependencies. */
export type ApiDeps = ServiceDeps;

export interface ApiContext extends ApiDeps {
  user: SessionUser | null;
  ipAddress: string | null;
}
