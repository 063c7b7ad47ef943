export {
  NetworkPolicyError,
  NETWORK_POLICY_ERROR_CODE,
  isNetworkPolicyError,
  findNetworkPolicyError,
  assertAddressesAllowed,
  assertHostLiteralAllowed,
  policyLookup,
  guardedConnection,
  systemResolver,
  defaultPort,
  socketHost,
  type GuardOptions,
  type Resolver,
  type ResolvedAddress,
} from './guarded-connect';
export { createGuardedFetch, type GuardedFetch, type GuardedFetchOptions } from './guarded-fetch';
export { resolveInternalServices } from './internal-services';
export {
  STRICT_NETWORK_POLICY,
  NETWORK_POLICY_REFUSAL,
  type NetworkPolicy,
  type InternalService,
} from '@fleetplane/domain/net/network-policy';
