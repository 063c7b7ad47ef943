'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useRef, useState } from 'react';
import { useForm, type FieldValues, type UseFormReturn } from 'react-hook-form';
import type { z } from 'zod';
import { applyServerErrors, type TrpcLikeError } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';

export interface FormDialogProps<TIn extends FieldValues, TOut, TResult> {
  trigger: React.ReactNode;
  /** Told when the dialog opens or closes, e.g. to load a select's options only while it is open. */
  onOpenChange?: (open: boolean) => void;
  title: React.ReactNode;
  description: React.ReactNode;
  /** The form's accessible name (tests and screen readers find the form by it). */
  formLabel: string;
  /** Validates in the browser before anything is sent; usually a schema from @fleetplane/contracts. */
  schema: z.ZodType<TOut, TIn>;
  /** The values the form starts from each time it opens; undefined while an edited record still loads. */
  values: TIn | undefined;
  /** Sends the validated values (a tRPC mutation). A rejection is shown in the form, next to its field. */
  submit: (values: TOut) => Promise<TResult>;
  /** After a successful submit the dialog closes and this runs: say so, invalidate, navigate. */
  onSuccess?: (result: TResult) => unknown;
  /** Shown instead of the form after success, keeping the dialog open (a one-time secret, say). */
  renderResult?: (result: TResult) => React.ReactNode;
  /** The dialog's title while it shows that result. */
  resultTitle?: React.ReactNode;
  submitLabel: string;
  pendingLabel?: string;
  contentClassName?: string;
  children: (form: UseFormReturn<TIn, unknown, TOut>) => React.ReactNode;
}

/**
 * The one scaffold of every form in a dialog: trigger, title, zod validation on touch, the server's
 * field errors next to their inputs (zodError.fieldErrors, or `data.field` for a rule only the server
 * knows, e.g. a name already taken), anything else in an alert on top, Cancel and a pending submit.
 */
export function FormDialog<TIn extends FieldValues, TOut, TResult>({
  trigger,
  onOpenChange,
  title,
  description,
  formLabel,
  schema,
  values,
  submit,
  onSuccess,
  renderResult,
  resultTitle,
  submitLabel,
  pendingLabel = 'Saving…',
  contentClassName,
  children,
}: FormDialogProps<TIn, TOut, TResult>) {
  const [open, setOpenState] = useState(false);
  const setOpen = (next: boolean) => {
    setOpenState(next);
    onOpenChange?.(next);
  };
  const [formError, setFormError] = useState<string | null>(null);
  const [result, setResult] = useState<{ value: TResult } | null>(null);
  const form = useForm<TIn, unknown, TOut>({ resolver: zodResolver(schema), mode: 'onTouched' });

  // Start from fresh values on every opening, once they are known (an edit form waits for its record).
  const resetForThisOpening = useRef(false);
  useEffect(() => {
    if (!open) {
      resetForThisOpening.current = false;
      return;
    }
    if (resetForThisOpening.current || values === undefined) return;
    resetForThisOpening.current = true;
    setFormError(null);
    setResult(null);
    form.reset(values);
  }, [open, values, form]);

  const onSubmit = form.handleSubmit(async (validated) => {
    setFormError(null);
    let value: TResult;
    try {
      value = await submit(validated);
    } catch (error) {
      // Placed against the fields the form has; what fits none goes to the alert on top.
      setFormError(applyServerErrors(error as TrpcLikeError, form.setError, Object.keys(form.getValues())));
      return;
    }
    if (renderResult) setResult({ value });
    else setOpen(false);
    await onSuccess?.(value);
  });
  const pending = form.formState.isSubmitting;

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent className={contentClassName}>
        <DialogHeader>
          <DialogTitle>{result && resultTitle ? resultTitle : title}</DialogTitle>
          <DialogDescription>{description}</DialogDescription>
        </DialogHeader>
        {result && renderResult ? (
          renderResult(result.value)
        ) : (
          <form onSubmit={onSubmit} noValidate className="grid gap-4" aria-label={formLabel}>
            {formError ? (
              <Alert variant="destructive">
                <AlertDescription>{formError}</AlertDescription>
              </Alert>
            ) : null}
            {children(form)}
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" disabled={pending || values === undefined}>
                {pending ? pendingLabel : submitLabel}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
