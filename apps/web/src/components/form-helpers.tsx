'use client';
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { Label } from '~/components/ui/input';

export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="text-xs text-destructive">
      {message}
    </p>
  );
}

export function Field({
  label,
  htmlFor,
  error,
  hint,
  children,
}: {
  label: string;
  htmlFor: string;
  error?: string;
  hint?: string;
  children: React.ReactNode;
}) {
  return (
    <div className="grid gap-1.5">
      <Label htmlFor={htmlFor}>{label}</Label>
      {children}
      {hint && !error ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
      <FieldError id={`${htmlFor}-error`} message={error} />
    </div>
  );
}

export interface TrpcLikeError {
  message: string;
  data?: { zodError?: { fieldErrors: Record<string, string[]> } | null; field?: string | null } | null;
}

/**
 * Puts server-side validation results next to the inputs they belong to. Returns the message that
 * belongs to no field (shown at the top of the form), or null when every problem found a field.
 */
export function applyServerErrors<T extends FieldValues>(
  error: TrpcLikeError,
  setError: UseFormSetError<T>,
  fields: readonly string[],
): string | null {
  const fieldErrors = error.data?.zodError?.fieldErrors ?? {};
  let placed = false;
  for (const [path, messages] of Object.entries(fieldErrors)) {
    // A nested path (accessToken.token) belongs to the input of its top-level field.
    const key = path.split('.')[0]!;
    if (fields.includes(key) && messages[0]) {
      setError(key as Path<T>, { type: 'server', message: messages[0] });
      placed = true;
    }
  }
  const field = error.data?.field;
  if (field && fields.includes(field)) {
    setError(field as Path<T>, { type: 'server', message: error.message });
    return null;
  }
  return placed ? null : error.message;
}
