'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Card, CardContent } from '~/components/ui/card';
import { Input } from '~/components/ui/input';
import { authClient } from '~/lib/auth-client';

const ZSignIn = z.object({
  email: z.email('Enter the email address of your account'),
  password: z.string().min(1, 'Enter your password'),
});
type TSignIn = z.infer<typeof ZSignIn>;

export function SignInForm({ next }: { next: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const form = useForm<TSignIn>({ resolver: zodResolver(ZSignIn), defaultValues: { email: '', password: '' } });

  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    const result = await authClient.signIn.email({ email: values.email, password: values.password });
    if (result.error) {
      const status = result.error.status;
      setError(
        status === 429
          ? 'Too many sign-in attempts. Wait a minute and try again.'
          : status === 401
            ? 'Email or password is incorrect.'
            : (result.error.message ?? 'Sign-in failed.'),
      );
      return;
    }
    router.replace(next);
    router.refresh();
  });

  const { errors, isSubmitting } = form.formState;
  return (
    <Card>
      <CardContent className="pt-5">
        <form onSubmit={onSubmit} className="grid gap-4" noValidate>
          {error ? (
            <Alert variant="destructive">
              <AlertDescription>{error}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Email" htmlFor="email" error={errors.email?.message}>
            <Input id="email" type="email" autoComplete="username" aria-invalid={!!errors.email} {...form.register('email')} />
          </Field>
          <Field label="Password" htmlFor="password" error={errors.password?.message}>
            <Input
              id="password"
              type="password"
              autoComplete="current-password"
              aria-invalid={!!errors.password}
              {...form.register('password')}
            />
          </Field>
          <Button type="submit" disabled={isSubmitting}>
            {isSubmitting ? 'Signing in…' : 'Sign in'}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
