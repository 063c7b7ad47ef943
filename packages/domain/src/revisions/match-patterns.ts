import picomatch from 'picomatch';

/**
 * Compiles repository file patterns into one predicate.
 *
 * - A pattern without a `/` matches the file name at any depth (`*.safetensors` matches
 *   `original/model.safetensors`), like .gitignore; a pattern with a `/` matches the whole path.
 * - `!pattern` excludes, like huggingface_hub's ignore_patterns; exclusions win over inclusions.
 * - No inclusion patterns means "every file" (minus exclusions).
 * - Dot files are matched by wildcards (`*` matches `.gitattributes`).
 */
export function compilePatterns(patterns: readonly string[]): (path: string) => boolean {
  const include = patterns
    .filter((p) => !p.startsWith('!'))
    .map((p) => p.trim())
    .filter(Boolean);
  const exclude = patterns
    .filter((p) => p.startsWith('!'))
    .map((p) => p.slice(1).trim())
    .filter(Boolean);
  const inc = include.length > 0 ? anyOf(include) : () => true;
  const exc = exclude.length > 0 ? anyOf(exclude) : () => false;
  return (path) => inc(path) && !exc(path);
}

// picomatch's `basename` option would also apply to patterns that contain a slash, so compile the two kinds apart.
function anyOf(patterns: string[]): (path: string) => boolean {
  const names = patterns.filter((p) => !p.includes('/'));
  const paths = patterns.filter((p) => p.includes('/'));
  const byName = names.length > 0 ? picomatch(names, { basename: true, dot: true }) : () => false;
  const byPath = paths.length > 0 ? picomatch(paths, { dot: true }) : () => false;
  return (path) => byName(path) || byPath(path);
}

export function matchesPatterns(path: string, patterns: readonly string[]): boolean {
  return compilePatterns(patterns)(path);
}
