'use client';
import { useEffect, useState } from 'react';
import { formatDateTime, formatRelative } from '~/lib/utils';

/**
 * "12s ago" that keeps ticking. The server renders with its clock and the browser hydrates with its
 * own, so the first text may differ by a second: that one mismatch is expected (suppressed), and the
 * browser's value replaces it at once.
 */
export function RelativeTime({ date, prefix = '' }: { date: Date | string | null | undefined; prefix?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, []);
  if (!date) return <span>{prefix}never</span>;
  const d = new Date(date);
  return (
    <time dateTime={d.toISOString()} title={formatDateTime(d)} suppressHydrationWarning>
      {prefix}
      {formatRelative(d, now)}
    </time>
  );
}
