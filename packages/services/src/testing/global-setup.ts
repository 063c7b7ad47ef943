// The test run's database for packages above services (vitest globalSetup): the data layer's setup,
// reached through the service layer so those packages never name @fleetplane/db.
export { default } from '@fleetplane/db/testing/global-setup';
