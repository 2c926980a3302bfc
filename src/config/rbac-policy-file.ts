import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { OperationContext } from '../domain/common/operation-context.js';
import { PolicyProblemsError, type RbacErrorCode } from '../domain/rbac/errors.js';
import type { Policy, PolicyVersion } from '../domain/rbac/policy.js';
import { problemLine, type PolicyProblem } from '../domain/rbac/policy-problems.js';
import { checkPolicyDocument } from '../domain/rbac/policy-rules.js';
import type { RbacPolicyService } from '../domain/rbac/policy-service.js';
import type { PolicyDiff } from '../domain/rbac/policy-diff.js';
import { ConfigError } from './load.js';
import { CONFIG_KEYS } from './schema.js';
import { jsonErrorOffset, lineColumn } from './json-error-position.js';

/** Read and parsed: the document as written, or each reason it could not be (with line and column where it has one). */
export type PolicyFileRead = { readonly ok: true; readonly document: unknown } | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads a policy document from a file: JSON when the name ends in `.json`, YAML when it ends in
 * `.yaml` or `.yml`, otherwise JSON if it parses as JSON and YAML if not. Only parses: what the
 * document says is checkPolicyDocument's to judge.
 */
export function readPolicyFile(path: string): PolicyFileRead {
  let text: string;
  try {
    // Editors on some systems start a UTF-8 file with a byte order mark, which JSON.parse refuses.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    return { ok: false, problems: [`could not be read: ${(error as Error).message}`] };
  }
  const extension = extname(path).toLowerCase();
  if (extension === '.json') return parseJson(text);
  if (extension === '.yaml' || extension === '.yml') return parseYaml(text);
  const json = parseJson(text);
  return json.ok ? json : parseYaml(text);
}

/**
 * Reads, parses and checks a policy file: the policy it describes, or every problem as a
 * `path: message` line with the error code the first one has (as applying it would answer).
 */
export function loadPolicyFile(
  path: string,
): { readonly ok: true; readonly document: unknown; readonly policy: Policy } | { readonly ok: false; readonly code: RbacErrorCode; readonly problems: readonly string[] } {
  const read = readPolicyFile(path);
  if (!read.ok) return { ...read, code: 'invalid_rbac_policy' };
  const checked = checkPolicyDocument(read.document);
  if (!checked.ok) return { ok: false, code: checked.problems[0]?.code ?? 'invalid_rbac_policy', problems: problemLines(checked.problems) };
  return { ok: true, document: read.document, policy: checked.value };
}

/** One line per problem (problemLine). */
export function problemLines(problems: readonly PolicyProblem[]): string[] {
  return problems.map(problemLine);
}

/** The policy file could not be applied at start: a configuration problem, so `serve` stops (exit 78) listing every reason. */
export class PolicyFileError extends ConfigError {
  constructor(path: string, problems: readonly string[]) {
    super(problems, `The RBAC policy file ${path} (${CONFIG_KEYS.rbacPolicyFile.env}) was not applied, so the server did not start. Fix the file:`);
    this.name = 'PolicyFileError';
  }
}

/** The file read and checked before anything is opened, so a wrong file stops the start at once. */
export interface CheckedPolicyFile {
  readonly path: string;
  readonly document: unknown;
}

/** Reads and checks the configured policy file; throws PolicyFileError listing every problem. */
export function checkPolicyFileAtStart(configured: string): CheckedPolicyFile {
  const path = resolve(configured);
  const loaded = loadPolicyFile(path);
  if (!loaded.ok) throw new PolicyFileError(path, loaded.problems);
  return { path, document: loaded.document };
}

export type PolicyFileOutcome =
  | { readonly changed: false; readonly version: PolicyVersion }
  | { readonly changed: true; readonly version: PolicyVersion; readonly replaced: PolicyVersion; readonly diff: PolicyDiff };

/**
 * Applies the checked file as the `system` actor unless it says what the policy in force says. The
 * file wins at every start: a version the console or the CLI applied since is replaced (and the
 * change audited like any other). A change that would leave roles assigned or resources used by
 * organizations' custom roles undefined is refused with PolicyFileError, listing each.
 */
export async function applyPolicyFileAtStart(service: RbacPolicyService, file: CheckedPolicyFile): Promise<PolicyFileOutcome> {
  const context: OperationContext = { requestId: 'startup', actor: { type: 'system' } };
  // Several processes starting together on one database take turns (the policy lock): the later
  // ones find the file's policy already in force and change nothing.
  try {
    const result = await service.apply(context, file.document, { source: 'file' });
    return result.changed ? { changed: true, version: result.version, replaced: result.previous, diff: result.diff } : { changed: false, version: result.version };
  } catch (error) {
    if (error instanceof PolicyProblemsError) throw new PolicyFileError(file.path, problemLines(error.problems));
    throw error;
  }
}

function parseJson(text: string): PolicyFileRead {
  try {
    return { ok: true, document: JSON.parse(text) as unknown };
  } catch (error) {
    // V8 states the position in some messages only, and quotes the text in others: the position is
    // found here instead, and the message keeps only its reason.
    const reason = (error as Error).message
      .replace(/^(Unexpected token .*?), ".*" is not valid JSON$/s, '$1')
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ in JSON at position \d+/, '')
      .replace(/ at position \d+/, '')
      // The unexpected character may be a line break: written as an escape, so the problem stays one line.
      .replace(/\p{Cc}/gu, (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
    return { ok: false, problems: [`not valid JSON: ${lineColumn(text, jsonErrorOffset(text, error) ?? text.length)}: ${reason}`] };
  }
}

function parseYaml(text: string): PolicyFileRead {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.map((error) => `not valid YAML: ${lineColumn(text, error.pos[0])}: ${error.message}`) };
  }
  try {
    // A bound on aliases: a few lines of anchors must not expand into gigabytes.
    return { ok: true, document: document.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (error) {
    return { ok: false, problems: [`not valid YAML: ${(error as Error).message}`] };
  }
}
