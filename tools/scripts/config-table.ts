// Prints the README's configuration table from packages/config's CONFIG_SPEC (the single source).
import { CONFIG_SPEC } from '@fleetplane/config';

const rows = Object.entries(CONFIG_SPEC).map(
  ([key, spec]) =>
    `| \`${key}\` | ${spec.default === undefined ? '—' : spec.default === '' ? '(empty)' : `\`${spec.default}\``} | ${spec.doc} |`,
);
console.log(['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n'));
