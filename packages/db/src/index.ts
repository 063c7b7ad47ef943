export * from './client';
export * from './ping.sql';
export * from './generated/prisma/client';
export * from './repositories/audit.repository';
export * from './repositories/site.repository';
export * from './repositories/cluster.repository';
export * from './repositories/node.repository';
export * from './repositories/user.repository';
