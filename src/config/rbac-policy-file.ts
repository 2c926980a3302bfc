import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isDomainError } from '../domain/common/domain-error.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { PolicyProblemsError, type RbacErrorCode } from '../domain/rbac/errors.js';
import type { Policy, PolicyVersion } from '../domain/rbac/policy.js';
import type { PolicyProblem } from '../domain/rbac/policy-problems.js';
import { checkPolicyDocument } from '../domain/rbac/policy-rules.js';
import type { RbacPolicyService } from '../domain/rbac/policy-service.js';
import type { PolicyDiff } from '../domain/rbac/policy-diff.js';
import { ConfigError } from './load.js';
import { CONFIG_KEYS } from './schema.js';

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

/** One line per problem, `path: message` (the path is left out for a problem of the whole document). */
export function problemLines(problems: readonly PolicyProblem[]): string[] {
  return problems.map((problem) => (problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`));
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
  // Several processes starting together on one database race to write the next version; the
  // loser reads again and finds the file's policy already in force.
  for (let attempt = 1; ; attempt += 1) {
    const before = await service.current();
    try {
      const result = await service.apply(context, file.document, { source: 'file' });
      return result.changed ? { changed: true, version: result.version, replaced: before, diff: result.diff } : { changed: false, version: result.version };
    } catch (error) {
      if (error instanceof PolicyProblemsError) throw new PolicyFileError(file.path, problemLines(error.problems));
      if (isDomainError(error) && error.code === 'rbac_policy_changed' && attempt < 3) continue;
      throw error;
    }
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
    return { ok: false, problems: [`not valid JSON: ${lineColumn(text, jsonErrorOffset(text))}: ${reason}`] };
  }
}

/** Where JSON.parse stops reading `text`: the offset of the first character that is not valid JSON there. */
function jsonErrorOffset(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at += 1;
  };
  const literal = (word: string) => {
    for (const character of word) {
      if (text[at] !== character) fail();
      at += 1;
    }
  };
  const string = () => {
    at += 1;
    for (;;) {
      const character = text[at];
      if (character === undefined || character < ' ') fail();
      if (character === '"') break;
      if (character === '\\') {
        at += 1;
        if (text[at] === 'u') {
          for (let digit = 0; digit < 4; digit += 1) {
            at += 1;
            if (!/[0-9a-fA-F]/.test(text[at] ?? '')) fail();
          }
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at += 1;
    }
    at += 1;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at));
    if (match === null) fail();
    at += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const character = text[at];
    if (character === '{' || character === '[') {
      const close = character === '{' ? '}' : ']';
      at += 1;
      space();
      if (text[at] === close) {
        at += 1;
        return;
      }
      for (;;) {
        if (close === '}') {
          space();
          if (text[at] !== '"') fail();
          string();
          space();
          if (text[at] !== ':') fail();
          at += 1;
        }
        value();
        space();
        if (text[at] === close) break;
        if (text[at] !== ',') fail();
        at += 1;
      }
      at += 1;
    } else if (character === '"') string();
    else if (character === 't') literal('true');
    else if (character === 'f') literal('false');
    else if (character === 'n') literal('null');
    else number();
  };
  try {
    value();
    space();
    // Read to the end without an error: JSON.parse refused what follows the value (or nothing).
    return Math.min(at, text.length);
  } catch (offset) {
    return offset as number;
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

/** `line L, column C` (both from 1) of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}
