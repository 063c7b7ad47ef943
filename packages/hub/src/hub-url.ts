export const DEFAULT_HUB_URL = 'https://huggingface.co';

/**
 * The Hub base URL: an explicit value wins, then HF_ENDPOINT (like huggingface_hub; hub.js ignores it,
 * so we pass the result as `hubUrl` everywhere), then huggingface.co. Trailing slashes are stripped.
 */
export function resolveHubUrl(explicit?: string | null, env: Record<string, string | undefined> = process.env): string {
  const candidate = explicit?.trim() || env.HF_ENDPOINT?.trim() || DEFAULT_HUB_URL;
  const url = candidate.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new Error(`Hub URL must start with http:// or https:// (got "${candidate}")`);
  return url;
}

/** `/{owner}/{name}/resolve/{revision}/{path}` with each path segment encoded. */
export function resolveFileUrl(hubUrl: string, repoId: string, revision: string, path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${repoId}/resolve/${encodeURIComponent(revision)}/${encoded}`;
}
