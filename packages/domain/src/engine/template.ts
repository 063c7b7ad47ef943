import { LAUNCH_TEMPLATE_PLACEHOLDERS } from '@fleetplane/contracts';

/**
 * Launch templates: an operator's own engine command line, stored as text. It is split into argv words
 * the way a POSIX shell splits them (quotes and backslashes) but never run through a shell: there is
 * no expansion, no pipes, no redirection, so what the preview shows is exactly what the agent execs.
 * Leading NAME=value words become the environment, as in `VAR=x cmd`. The only placeholders are
 * {artifact_dir}, {port} and {host}, which the agent fills in.
 */

export type TParsedTemplate = { ok: true; argv: string[]; env: Record<string, string> } | { ok: false; error: string };

const SHELL_OPERATORS = /[|&;<>`]|\$\(/;
const ENV_WORD = /^([A-Z_][A-Z0-9_]*)=(.*)$/s;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Shell-style word splitting without expansion. Returns the words, or an error for an unclosed quote. */
export function splitWords(text: string): { ok: true; words: { text: string; quoted: boolean }[] } | { ok: false; error: string } {
  const words: { text: string; quoted: boolean }[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  let rawUnquoted = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: 'A single quote is not closed' };
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
      quoted = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) j++;
        cur += text[j];
      }
      if (j >= text.length) return { ok: false, error: 'A double quote is not closed' };
      i = j;
      inWord = true;
      quoted = true;
    } else if (ch === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') cur += text[i + 1];
      i++;
      inWord = inWord || i < text.length;
    } else if (/\s/.test(ch)) {
      if (inWord && SHELL_OPERATORS.test(rawUnquoted)) return { ok: false, error: operatorError(rawUnquoted) };
      if (inWord) words.push({ text: cur, quoted });
      cur = '';
      rawUnquoted = '';
      inWord = false;
      quoted = false;
    } else {
      cur += ch;
      rawUnquoted += ch;
      inWord = true;
    }
  }
  if (inWord) {
    if (SHELL_OPERATORS.test(rawUnquoted)) return { ok: false, error: operatorError(rawUnquoted) };
    words.push({ text: cur, quoted });
  }
  return { ok: true, words };
}

function operatorError(word: string): string {
  return `"${word}" uses a shell operator: a launch template is one command, run without a shell (quote the character if it is meant literally)`;
}

/** Parse and check a launch template; `requireArtifactDir` for launch templates (not stop templates). */
export function parseLaunchTemplate(text: string, opts: { requireArtifactDir: boolean } = { requireArtifactDir: true }): TParsedTemplate {
  const split = splitWords(text.trim());
  if (!split.ok) return split;
  const env: Record<string, string> = {};
  const argv: string[] = [];
  for (const w of split.words) {
    const m = argv.length === 0 && !w.quoted ? ENV_WORD.exec(w.text) : null;
    if (m) env[m[1]!] = m[2]!;
    else argv.push(w.text);
  }
  if (argv.length === 0) return { ok: false, error: 'The template has no command, only environment variables' };
  for (const word of [...argv, ...Object.values(env)]) {
    for (const m of word.matchAll(PLACEHOLDER)) {
      if (!(LAUNCH_TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1]!))
        return { ok: false, error: `Unknown placeholder {${m[1]}}: only {artifact_dir}, {port} and {host} are filled in` };
    }
  }
  if (opts.requireArtifactDir && ![...argv, ...Object.values(env)].some((w) => w.includes('{artifact_dir}')))
    return { ok: false, error: 'The template must use {artifact_dir}, or every artifact would start the same model' };
  if (argv.length > 256) return { ok: false, error: 'At most 256 arguments' };
  return { ok: true, argv, env };
}
