import { z } from 'zod';

/**
 * Hub repo ids as the Hub validates them (huggingface_hub's validate_repo_id): `namespace/name`, each
 * part letters, digits, `_`, `-` and `.`, not starting or ending with `-` or `.`, no `--` or `..`, the
 * name at most 96 characters and not ending in `.git`.
 */
export const HUB_REPO_NAME_MAX = 96;
const HUB_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

export function hubRepoIdProblem(id: string): string | null {
  const parts = id.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return 'Use the Hub repo id, namespace/name, e.g. deepseek-ai/DeepSeek-V4-Flash';
  const [namespace, name] = parts as [string, string];
  for (const [what, part] of [
    ['namespace', namespace],
    ['name', name],
  ] as const) {
    if (part.length > HUB_REPO_NAME_MAX) return `The repo ${what} may have at most ${HUB_REPO_NAME_MAX} characters`;
    if (!/^[A-Za-z0-9_.-]+$/.test(part)) return `The repo ${what} may use letters, digits, _ - and . only`;
    if (part.includes('--') || part.includes('..')) return `The repo ${what} may not contain "--" or ".."`;
    if (!HUB_PART.test(part)) return `The repo ${what} may not start or end with "-" or "."`;
  }
  if (name.toLowerCase().endsWith('.git')) return 'The repo name may not end with ".git"';
  return null;
}

/**
 * Branch names as `git check-ref-format --branch` accepts them, so a branch the Hub could never have
 * is refused at the form: no `..`, `@{`, `//`, backslash, control characters, space or ~^:?*[; no
 * part starting with `.` or ending with `.lock`; not starting with `-` or `/`, not ending with `/` or
 * `.`; not `@`. At most 255 bytes (git keeps refs as files, whose names are limited to that).
 */
export const BRANCH_MAX_BYTES = 255;

export function branchProblem(branch: string): string | null {
  if (branch.length === 0) return 'Required';
  if (new TextEncoder().encode(branch).length > BRANCH_MAX_BYTES) return `Branch names may have at most ${BRANCH_MAX_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(branch)) return 'Branch names may not contain spaces or control characters';
  if (/[~^:?*[\\]/.test(branch)) return 'Branch names may not contain ~ ^ : ? * [ or \\';
  if (branch.includes('..')) return 'Branch names may not contain ".."';
  if (branch.includes('@{')) return 'Branch names may not contain "@{"';
  if (branch === '@') return 'A branch may not be called "@"';
  if (branch.startsWith('-')) return 'Branch names may not start with "-"';
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//'))
    return 'Branch names may not start or end with "/" or contain "//"';
  if (branch.endsWith('.')) return 'Branch names may not end with "."';
  for (const part of branch.split('/')) {
    if (part.startsWith('.')) return 'No part of a branch name may start with "."';
    if (part.endsWith('.lock')) return 'No part of a branch name may end with ".lock"';
  }
  return null;
}

export const ZHubRepoId = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const message = hubRepoIdProblem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

export const ZBranchName = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const message = branchProblem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
