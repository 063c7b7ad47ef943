import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Workspace packages are TypeScript source; Next compiles them with the app.
  transpilePackages: [
    '@fleetplane/api',
    '@fleetplane/auth',
    '@fleetplane/config',
    '@fleetplane/contracts',
    '@fleetplane/db',
    '@fleetplane/domain',
    '@fleetplane/queue',
    '@fleetplane/services',
  ],
  serverExternalPackages: ['bullmq', 'ioredis', 'pino', 'pino-pretty', 'prom-client'],
  poweredByHeader: false,
  typedRoutes: false,
  typescript: { ignoreBuildErrors: true },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default nextConfig;
