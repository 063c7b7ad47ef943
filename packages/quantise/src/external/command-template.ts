// A recipe's command template is an argv array with {placeholders}; values are substituted inside single argv
// elements and never pass through a shell, so a path with spaces, quotes or `$(...)` stays one literal argument.

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export function placeholdersOf(template: string[]): string[] {
  const found = new Set<string>();
  for (const arg of template) for (const m of arg.matchAll(PLACEHOLDER)) found.add(m[1]!);
  return [...found].sort();
}

export function expandTemplate(template: string[], values: Record<string, string | number>): string[] {
  if (template.length === 0 || template[0]!.trim() === '') throw new TemplateError('the command template is empty');
  const missing = placeholdersOf(template).filter((p) => values[p] === undefined);
  if (missing.length > 0)
    throw new TemplateError(
      `the command template uses ${missing.map((m) => `{${m}}`).join(', ')}, which ${missing.length === 1 ? 'has' : 'have'} no value`,
    );
  return template.map((arg) => arg.replace(PLACEHOLDER, (_, name: string) => String(values[name])));
}
