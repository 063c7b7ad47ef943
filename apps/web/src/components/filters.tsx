'use client';
import { useQuery } from '@tanstack/react-query';
import { NativeSelect } from '~/components/ui/input';
import { cn } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';

export type FilterOption<T extends string> = T | { value: T; label: string };

/**
 * A list page's filter: "any" first, then the options. Every list page filters with this one control so they
 * read and behave alike (label "Filter by …", the page goes back to 1 in the caller's onChange).
 * An enum value's label defaults to the value with underscores as spaces.
 */
export function FilterSelect<T extends string>({
  name,
  anyLabel,
  value,
  onChange,
  options,
  className,
}: {
  /** what is filtered, for the accessible name: "Filter by {name}" */
  name: string;
  anyLabel: string;
  value: T | '';
  onChange: (value: T | '') => void;
  options: readonly FilterOption<T>[] | undefined;
  className?: string;
}) {
  return (
    <NativeSelect
      aria-label={`Filter by ${name}`}
      className={cn('w-40', className)}
      value={value}
      onChange={(e) => onChange(e.target.value as T | '')}
    >
      <option value="">{anyLabel}</option>
      {options?.map((o) => {
        const { value: v, label } = typeof o === 'string' ? { value: o, label: o.replace(/_/g, ' ') } : o;
        return (
          <option key={v} value={v}>
            {label}
          </option>
        );
      })}
    </NativeSelect>
  );
}

/** Filter by cluster: the clusters' names from `clusters.options` (prefetched by the list pages). */
export function ClusterFilter({ value, onChange }: { value: string; onChange: (clusterId: string) => void }) {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.options.queryOptions());
  return (
    <FilterSelect
      name="cluster"
      anyLabel="All clusters"
      className="w-52"
      value={value}
      onChange={onChange}
      options={clusters.data?.map((c) => ({ value: c.id, label: c.name }))}
    />
  );
}
