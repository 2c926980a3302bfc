import { parseArgs } from 'node:util';
import { Document, isScalar, visit } from 'yaml';
import { loadConfig } from '../config/load.js';
import { loadPolicyFile, problemLines } from '../config/rbac-policy-file.js';
import { CONFIG_KEYS } from '../config/schema.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { PolicyProblemsError } from '../domain/rbac/errors.js';
import { DEFAULT_POLICY, type Policy, type PolicyPermission, type PolicyVersion } from '../domain/rbac/policy.js';
import { diffPolicies, type ItemDiff, type PolicyDiff } from '../domain/rbac/policy-diff.js';
import { policyDocument } from '../domain/rbac/policy-rules.js';
import type { Services } from '../services.js';
import { formatTable, type Output, printable, withCliServices, parsedOrUsage } from './cli-support.js';
import { UsageError } from './keys-command.js';

const MAX_HISTORY = 1000;

/** `understudy rbac policy show|apply|history`: the project's RBAC policy, from the shell. */
export const RBAC_USAGE = `Usage: understudy rbac policy <subcommand> [options] [--config <file>]

  show     [--json | --yaml]
           The policy in force: its version, resources, roles and scopes. --json and --yaml print
           it in the policy file's form ({resources, roles, scopes}), to edit and apply again.
  apply    <file> [--based-on <version>]
           Apply the policy in a JSON or YAML file. Prints the new version and what changed; a
           policy with problems is refused, every problem printed one per line (exit 1, nothing
           changes). --based-on <version> refuses the change when another was applied since.
  history  [--limit <n>] [--json]
           Stored versions, newest first (default 20, at most ${MAX_HISTORY}): where each came from and
           what it changed.

With ${CONFIG_KEYS.rbacPolicyFile.env} set, the server applies that file at every start, replacing
a policy applied here when they differ. See docs/rbac.md.`;

export type RbacArguments = { readonly help: boolean; readonly config: string | undefined } & (
  | { readonly subcommand: 'show'; readonly format: 'text' | 'json' | 'yaml' }
  | { readonly subcommand: 'apply'; readonly file: string; readonly basedOn: number | undefined }
  | { readonly subcommand: 'history'; readonly limit: number; readonly json: boolean }
);

type Subcommand = RbacArguments['subcommand'];
const ALLOWED_FLAGS: Record<Subcommand, readonly string[]> = { show: ['json', 'yaml'], apply: ['based-on'], history: ['limit', 'json'] };

/** Checks the arguments before anything is opened; `argv` starts with `rbac policy <subcommand>`. */
export function parseRbacArguments(argv: readonly string[]): RbacArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      yaml: { type: 'boolean' },
      'based-on': { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const common = { help: values.help === true, config: values.config };
  const help = { ...common, subcommand: 'show', format: 'text' } as const;
  const group = positionals[1];
  if (group === undefined && common.help) return help;
  if (group !== 'policy') throw new UsageError(group === undefined ? 'Missing rbac subcommand.' : `Unknown rbac subcommand "${group}".`);
  const given = positionals[2];
  if (given === undefined && common.help) return help;
  if (given === undefined) throw new UsageError('Missing rbac policy subcommand: show, apply or history.');
  if (!Object.hasOwn(ALLOWED_FLAGS, given)) throw new UsageError(`Unknown rbac policy subcommand "${given}".`);
  const subcommand = given as Subcommand;
  const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'help' && !ALLOWED_FLAGS[subcommand].includes(flag));
  if (stray !== undefined) throw new UsageError(`--${stray} does not apply to \`rbac policy ${subcommand}\`.`);
  if (common.help) return help;
  const expected = subcommand === 'apply' ? 4 : 3;
  if (positionals.length > expected) throw new UsageError(`Unexpected argument "${positionals[expected]}".`);
  switch (subcommand) {
    case 'show':
      if (values.json === true && values.yaml === true) throw new UsageError('Give --json or --yaml, not both.');
      return { ...common, subcommand, format: values.json === true ? 'json' : values.yaml === true ? 'yaml' : 'text' };
    case 'apply': {
      const file = positionals[3];
      if (file === undefined || file.trim() === '') throw new UsageError('Missing the policy file: `understudy rbac policy apply <file>`.');
      const basedOn = values['based-on'];
      if (basedOn !== undefined && !/^\d{1,9}$/.test(basedOn)) throw new UsageError(`--based-on must be a version number, 0 or more (got "${basedOn}").`);
      return { ...common, subcommand, file, basedOn: basedOn === undefined ? undefined : Number(basedOn) };
    }
    case 'history': {
      const text = values.limit ?? '20';
      const limit = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
      if (!(limit >= 1 && limit <= MAX_HISTORY)) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_HISTORY} (got "${text}").`);
      return { ...common, subcommand, limit, json: values.json === true };
    }
  }
}

/**
 * Parses (exit 2 with usage on bad arguments, before anything is opened), opens the services
 * `serve` uses, calls them as the `cli` actor and prints. A policy with problems exits 1 listing
 * every problem; another domain error exits 1 with its code.
 */
export async function runRbacCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseRbacArguments(argv), RBAC_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(RBAC_USAGE);
    return 0;
  }
  const config = loadConfig({ configFile: args.config });
  if (args.subcommand === 'apply') {
    // Read and checked before the database is opened: a file with problems changes nothing.
    const loaded = loadPolicyFile(args.file);
    if (!loaded.ok) {
      io.err(notApplied(loaded.code, args.file, loaded.problems));
      return 1;
    }
    const document = loaded.document;
    const basedOn = args.basedOn;
    return withCliServices(config, { ...io, announce: io.err }, async (services, context) => {
      const code = await applyPolicy(services, context, { document, file: args.file, basedOn }, io);
      if (code === 0 && config.rbacPolicyFile !== undefined) {
        io.err(`Note: ${CONFIG_KEYS.rbacPolicyFile.env} is set (${printable(config.rbacPolicyFile)}): the server applies that file at its next start, replacing this policy if they differ.`);
      }
      return code;
    });
  }
  // First-start credentials go to stderr, so --json and --yaml output stays parseable.
  return withCliServices(config, { ...io, announce: io.err }, async (services) => {
    if (args.subcommand === 'show') return show(services, args.format, io);
    return history(services, args.limit, args.json, io);
  });
}

async function show(services: Services, format: 'text' | 'json' | 'yaml', io: Output): Promise<number> {
  const current = await services.rbacPolicy.current();
  const document = policyDocument(current.policy);
  if (format === 'json') {
    io.out(indentedJson(document));
    io.err(versionLine(current));
  } else if (format === 'yaml') {
    io.out(`# ${versionLine(current)}\n${yamlText(document)}`);
  } else {
    io.out(`${versionLine(current)}\n\n${policyTables(current.policy)}`);
  }
  return 0;
}

async function applyPolicy(services: Services, context: OperationContext, input: { document: unknown; file: string; basedOn: number | undefined }, io: Output): Promise<number> {
  try {
    const result = await services.rbacPolicy.apply(context, input.document, { source: 'cli', basedOn: input.basedOn });
    if (!result.changed) {
      io.out(`No change: ${printable(input.file)} holds the policy in force (version ${result.version.version}).`);
      return 0;
    }
    io.out([`Applied ${printable(input.file)}: policy version ${result.version.version} (was ${result.version.version - 1}).`, ...diffLines(result.diff)].join('\n'));
    return 0;
  } catch (error) {
    if (!(error instanceof PolicyProblemsError)) throw error;
    io.err(notApplied(error.code, input.file, problemLines(error.problems)));
    return 1;
  }
}

async function history(services: Services, limit: number, json: boolean, io: Output): Promise<number> {
  // One more than shown: the oldest shown version's changes are counted from the one before it.
  const stored = await services.rbacPolicy.history(limit + 1);
  const versions: PolicyVersion[] = [...stored.slice(0, limit)];
  // Version 0 (never stored) ends the list when every stored version is shown and a row is left.
  const reachesDefault = stored.length < limit;
  const previousOf = (index: number): Policy => stored[index + 1]?.policy ?? DEFAULT_POLICY;
  const rows = versions.map((version, index) => ({ version, changes: diffPolicies(previousOf(index), version.policy) }));
  if (json) {
    io.out(
      indentedJson({
        versions: [
          ...rows.map(({ version, changes }) => ({ version: version.version, source: version.source, created_at: version.createdAt, changes, policy: policyDocument(version.policy) })),
          ...(reachesDefault ? [{ version: 0, source: 'default', created_at: null, changes: null, policy: policyDocument(DEFAULT_POLICY) }] : []),
        ],
      }),
    );
    return 0;
  }
  const table = rows.map(({ version, changes }) => [String(version.version), version.source, version.createdAt, compactDiff(changes)]);
  if (reachesDefault) table.push(['0', 'default', '-', "Stytch's default resources and roles"]);
  io.out(formatTable(['VERSION', 'SOURCE', 'CREATED', 'CHANGES'], table));
  return 0;
}

function versionLine(version: PolicyVersion): string {
  if (version.version === 0) return "Policy version 0: Stytch's default resources and roles (no policy applied yet).";
  const from = { default: "Stytch's defaults", file: 'the policy file', console: 'the console', cli: 'the CLI' }[version.source];
  return `Policy version ${version.version}, applied from ${from} at ${version.createdAt}.`;
}

/** The refusal: its code and file, then every problem on its own line. */
function notApplied(code: string, file: string, problems: readonly string[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return [`understudy: ${code}: ${printable(file)} was not applied (${count}):`, ...problems.map((problem) => `  - ${printable(problem)}`)].join('\n');
}

/** What a change did, one line per kind of item that changed. */
export function diffLines(diff: PolicyDiff): string[] {
  const lines: string[] = [];
  const kinds: [string, ItemDiff, string][] = [
    ['Resources', diff.resources, 'resource_id'],
    ['Roles', diff.roles, 'role_id'],
    ['Scopes', diff.scopes, 'scope'],
  ];
  for (const [label, items, key] of kinds) {
    const parts: [string, string[]][] = [
      ['added', items.added.map((item) => idOf(item, key))],
      ['removed', items.removed.map((item) => idOf(item, key))],
      ['changed', items.changed.map((change) => idOf(change.after, key))],
    ];
    const said = parts.filter(([, ids]) => ids.length > 0).map(([verb, ids]) => `${verb} ${ids.map(printable).join(', ')}`);
    if (said.length > 0) lines.push(`  ${label}: ${said.join('; ')}`);
  }
  return lines;
}

/** `roles +editor -viewer ~stytch_admin; resources +documents` for one table cell. */
function compactDiff(diff: PolicyDiff): string {
  const kinds: [string, ItemDiff, string][] = [
    ['resources', diff.resources, 'resource_id'],
    ['roles', diff.roles, 'role_id'],
    ['scopes', diff.scopes, 'scope'],
  ];
  const parts = kinds
    .map(([label, items, key]) => {
      const ids = [...items.added.map((item) => `+${idOf(item, key)}`), ...items.removed.map((item) => `-${idOf(item, key)}`), ...items.changed.map((change) => `~${idOf(change.after, key)}`)];
      return ids.length === 0 ? '' : `${label} ${ids.join(' ')}`;
    })
    .filter((part) => part !== '');
  return parts.length === 0 ? '(none)' : parts.join('; ');
}

function idOf(item: unknown, key: string): string {
  return String((item as Record<string, unknown>)[key]);
}

/** Each resource, role and scope with its description, then its actions or permissions indented below it. */
function policyTables(policy: Policy): string {
  const line = (text: string) => printable(text.replace(/[\r\n\t]+/g, ' '));
  const heading = (id: string, description: string) => (description === '' ? `  ${line(id)}` : `  ${line(id)}: ${line(description)}`);
  const permissions = (list: readonly PolicyPermission[]) =>
    list.length === 0 ? ['    (no permissions)'] : list.map((permission) => `    ${line(permission.resourceId)}: ${permission.actions.map(line).join(', ')}`);
  const resources = policy.resources.flatMap((resource) => [heading(resource.resourceId, resource.description), `    ${resource.actions.map(line).join(', ')}`]);
  const roles = policy.roles.flatMap((role) => [heading(role.roleId, role.description), ...permissions(role.permissions)]);
  const scopes = policy.scopes.length === 0 ? ['  (none)'] : policy.scopes.flatMap((scope) => [heading(scope.scope, scope.description), ...permissions(scope.permissions)]);
  return ['Resources', ...resources, '', 'Roles', ...roles, '', 'Scopes', ...scopes].join('\n');
}

/** Control and format characters (the line break of indentation aside), which must not reach a terminal raw. */
const INVISIBLE = /(?!\n)[\p{Cc}\p{Cf}\u2028\u2029]/gu;
const HAS_INVISIBLE = /(?!\n)[\p{Cc}\p{Cf}\u2028\u2029]/u;

function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, (character) => {
    let escaped = '';
    for (let index = 0; index < character.length; index += 1) escaped += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
    return escaped;
  });
}

/** Indented JSON whose strings hold no raw control or format character (written as `\uXXXX`, the same value). */
function indentedJson(value: unknown): string {
  return escapeInvisible(JSON.stringify(value, null, 2));
}

/** YAML likewise: a text holding such a character is double-quoted, where `\uXXXX` means that character. */
function yamlText(value: unknown): string {
  const document = new Document(value);
  visit(document, {
    // Lists of actions on one line each: `actions: [ read, write ]`.
    Seq(_key, node) {
      if (node.items.every(isScalar)) node.flow = true;
    },
    Scalar(_key, node) {
      if (typeof node.value === 'string' && HAS_INVISIBLE.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeInvisible(document.toString({ lineWidth: 0 })).trimEnd();
}
