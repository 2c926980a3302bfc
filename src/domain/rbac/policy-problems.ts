import type { RbacErrorCode } from './errors.js';

/** One thing wrong with a policy document: where (`roles[2].permissions[0]`), which error code, and why. */
export interface PolicyProblem {
  readonly path: string;
  readonly code: RbacErrorCode;
  readonly message: string;
}

export type PolicyCheck<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

/** One problem as people read it: `path: message` (the path is left out for a problem of the whole document). */
export function problemLine(problem: PolicyProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** The problems as one line for an API error message (the console and the CLI list them one per line). */
export function describeProblems(problems: readonly PolicyProblem[]): string {
  return problems.map(problemLine).join('; ');
}

