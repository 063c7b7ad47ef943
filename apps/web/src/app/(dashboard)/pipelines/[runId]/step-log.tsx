'use client';
import type { RouterOutputs } from '@fleetplane/api';
import { cn } from '~/lib/utils';

type Step = RouterOutputs['pipelines']['get']['steps'][number];

/**
 * A pipeline step's log lines in a scroll box. The box takes keyboard focus (tabIndex, named region): a long
 * log scrolls, and keyboard users must be able to scroll it too (WCAG 2.1.1, axe scrollable-region-focusable).
 */
export function StepLogLines({ step, testId, className }: { step: Step; testId: string; className: string }) {
  return (
    <pre
      className={cn('overflow-auto whitespace-pre-wrap break-all rounded-md bg-muted p-3 text-xs', className)}
      data-testid={testId}
      tabIndex={0}
      role="region"
      aria-label={`Log of ${step.kind} ${step.targetKey}`}
      suppressHydrationWarning
    >
      {step.logs.length
        ? step.logs.map((l) => `${new Date(l.loggedAt).toLocaleTimeString()} ${l.level.toUpperCase().padEnd(5)} ${l.message}`).join('\n')
        : 'No log lines yet.'}
    </pre>
  );
}
