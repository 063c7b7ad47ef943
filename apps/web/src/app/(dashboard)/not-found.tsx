import Link from 'next/link';
import { Button } from '~/components/ui/button';

export default function NotFound() {
  return (
    <div className="flex flex-col items-center gap-3 py-20 text-center">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="text-muted-foreground">That page or object does not exist (any more).</p>
      <Button asChild variant="outline">
        <Link href="/">Back to the fleet overview</Link>
      </Button>
    </div>
  );
}
