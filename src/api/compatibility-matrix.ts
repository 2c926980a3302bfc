import { CONTRACT_OPERATIONS } from './generated/operations.js';
import { EXTENSION_OPERATIONS, STYTCH_OPERATIONS } from './operations.js';

/**
 * The operations section of docs/compatibility.md, rendered from the tables so the page cannot
 * drift from what the server registers: every SDK method of the contract, grouped by the SDK's
 * top-level namespace, implemented or answering 501, then our extensions. `npm run compatibility`
 * writes it between the page's `operations:start` and `operations:end` markers, and
 * tests/unit/compatibility-matrix.test.ts compares the committed page with this rendering.
 */
export const OPERATIONS_START_MARKER = '<!-- operations:start -->';
export const OPERATIONS_END_MARKER = '<!-- operations:end -->';

const IMPLEMENTED = 'implemented';
const NOT_YET = 'not yet (501)';

interface MatrixRow {
  readonly sdkMethod: string;
  readonly route: string;
  readonly implemented: boolean;
}

/** The markdown between the markers, ending with a newline. */
export function renderOperationsMatrix(): string {
  const implemented = new Set<string>(STYTCH_OPERATIONS.map((operation) => operation.operationId));
  // The contract lists its operations in SDK-method order already.
  const rows: MatrixRow[] = CONTRACT_OPERATIONS.map((operation) => ({
    sdkMethod: operation.sdkMethod,
    route: `${operation.method} ${operation.url}`,
    implemented: implemented.has(operation.operationId),
  }));
  const lines = [
    '## Operations',
    '',
    'Every method of the official SDK that calls Stytch\'s B2B API, as the contract names it (where several call the same endpoint, such as `sessions.authenticate` and `sessions.authenticateJwt`, the shortest name stands for all). ' +
      `"${IMPLEMENTED}" methods are answered as described on this page; "${NOT_YET}" ones still need the project's credentials, then answer 501 \`not_implemented\` naming the SDK method, so a caller sees what is missing rather than a 404 that looks like a typo. ` +
      'This section is rendered from the operation table (`src/api/operations.ts`) and the contract by `npm run compatibility` (also run by `npm run contract`); do not edit it by hand.',
    '',
    `${rows.filter((row) => row.implemented).length} of ${rows.length} SDK methods are implemented.`,
    '',
    ...namespaceTables(rows),
    ...extensionTable(),
  ];
  return `${lines.join('\n')}\n`;
}

/** One table per top-level SDK namespace (`organizations`, `sessions`, ...), in alphabetical order. */
function namespaceTables(rows: readonly MatrixRow[]): string[] {
  const byNamespace = new Map<string, MatrixRow[]>();
  for (const row of rows) {
    const namespace = row.sdkMethod.split('.')[0] as string;
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), row]);
  }
  return [...byNamespace.keys()].sort(byCodePoint).flatMap((namespace) => {
    const members = byNamespace.get(namespace) ?? [];
    return [
      `### \`${namespace}\` (${members.filter((row) => row.implemented).length} of ${members.length} implemented)`,
      '',
      '| SDK method | route | status |',
      '| --- | --- | --- |',
      ...members.map((row) => `| \`${row.sdkMethod}\` | \`${row.route}\` | ${row.implemented ? IMPLEMENTED : NOT_YET} |`),
      '',
    ];
  });
}

/** Our own operations: not in the contract, so no SDK method calls them. */
function extensionTable(): string[] {
  const extensions = [...EXTENSION_OPERATIONS].sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.url, b.url));
  return [
    '### Extensions of ours',
    '',
    'Not part of Stytch\'s API, so the SDK has no method for them: they are called over HTTP (impersonation: `docs/impersonation.md`; health checks: `docs/reliability.md`). The names are ours, in the SDK\'s style.',
    '',
    '| name | route |',
    '| --- | --- |',
    ...extensions.map((extension) => `| \`${extension.name}\` | \`${extension.method} ${extension.url}\` |`),
    '',
  ];
}

/** The same order on every machine, unlike localeCompare. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
