// The demo data lives in tools/dev (it is dev tooling); import it from '@fleetplane/dev/seed-demo-fleet'.
export * from '@fleetplane/dev/seed-demo-fleet';
