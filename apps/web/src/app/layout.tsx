import type { Metadata } from 'next';
import { Toaster } from 'sonner';
import { TRPCReactProvider } from '~/trpc/react';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Fleetplane', template: '%s · Fleetplane' },
  description: 'Control plane for self-hosted DeepSeek V4 inference fleets',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>{children}</TRPCReactProvider>
        <Toaster richColors position="bottom-right" />
      </body>
    </html>
  );
}
