import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeBrokenRecord, encodeChainHead, encodeVerification } from '../api/audit/chain-wire.js';
import { loadConfig } from '../config/load.js';
import { describeProblem, type AuditChainVerification, type ExpectedRecord } from '../domain/audit/audit-chain-verifier.js';
import { type Publication, publicationOf, publishedExpectations } from '../domain/audit/published-heads.js';
import { DomainError } from '../domain/common/domain-error.js';
import { printableJson } from '../http/wire/json-text.js';
import { formatTable, type Output, printable, parsedOrUsage, withCliServices } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy audit verify|heads`: the tamper-evident audit chains, checked and shown from the shell. */
export const AUDIT_USAGE = `Usage: understudy audit <subcommand> [options] [--config <file>]

  verify   [--organization <id>] [--published <file> ...] [--expect <chain>:<seq>:<hash> ...] [--json]
           Recompute every record of every audit chain (or the organization's only; \`project\` names
           the project's chain) and check that each links to the one before it and the chain's head
           names the last. Each --published file holds heads published earlier and kept outside the
           database: the JSON of the log line \`audit chain heads\`, the body of an
           audit.chain_head_published webhook, or the output of \`audit heads --json\`; one per line
           for several. Give them oldest first, back to a full list: every chain they name must
           still have a record at the published seq with the published hash, which proves the
           history up to it was not rewritten, cut back or deleted. --expect gives one such head.
  heads    [--json]
           Each chain's head (seq and hash of its last record) and the digest of them all.

Exit codes: 0 when every chain is intact, 1 when a record is broken (the first of each broken chain
is named on stderr) or the database refuses, 2 for bad arguments. See docs/impersonation.md.`;

export type AuditArguments = { readonly help: boolean; readonly config: string | undefined; readonly json: boolean } & (
  | { readonly subcommand: 'verify'; readonly organization: string | undefined; readonly expected: readonly ExpectedRecord[]; readonly published: readonly ExpectedRecord[] }
  | { readonly subcommand: 'heads' }
);

type Subcommand = AuditArguments['subcommand'];
const ALLOWED_FLAGS: Record<Subcommand, readonly string[]> = { verify: ['organization', 'published', 'expect', 'json'], heads: ['json'] };

/** Checks the arguments before anything is opened; `argv` starts with `audit <subcommand>`. */
export function parseAuditArguments(argv: readonly string[]): AuditArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      organization: { type: 'string' },
      expect: { type: 'string', multiple: true },
      published: { type: 'string', multiple: true },
    },
  });
  const common = { help: values.help === true, config: values.config, json: values.json === true };
  const given = positionals[1];
  if (given === undefined && common.help) return { ...common, subcommand: 'heads' };
  if (given === undefined) throw new UsageError('Missing audit subcommand (verify or heads).');
  if (!Object.hasOwn(ALLOWED_FLAGS, given)) throw new UsageError(`Unknown audit subcommand "${given}".`);
  const subcommand = given as Subcommand;
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
  const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'help' && !ALLOWED_FLAGS[subcommand].includes(flag));
  if (stray !== undefined) throw new UsageError(`--${stray} does not apply to \`audit ${subcommand}\`.`);
  if (subcommand === 'heads') return { ...common, subcommand };
  const organization = values.organization?.trim();
  if (organization === '') throw new UsageError('--organization needs an organization id (or project).');
  const published = readPublished(values.published ?? []).filter((head) => organization === undefined || head.chainId === organization);
  return { ...common, subcommand, organization, expected: (values.expect ?? []).map(parseExpected), published };
}

/** The heads the --published files vouch for (published-heads.ts); a file that cannot be read or does not add up is a usage error. */
function readPublished(files: readonly string[]): ExpectedRecord[] {
  const publications: (Publication & { where: string })[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--published ${file} cannot be read: ${(error as Error).message}`);
    }
    for (const [index, document] of documentsIn(text, file).entries()) {
      const where = `--published ${file}${index === 0 ? '' : ` (publication ${index + 1})`}`;
      publications.push({ ...usageOnRefusal(() => publicationOf(document, where)), where });
    }
  }
  return usageOnRefusal(() => publishedExpectations(publications));
}

/** One JSON document, or one per line (a log's lines, a webhook receiver's bodies). */
function documentsIn(text: string, file: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    return lines.map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new UsageError(`--published ${file} is neither JSON nor one JSON document per line (line ${index + 1} is not JSON).`);
      }
    });
  }
}

function usageOnRefusal<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DomainError) throw new UsageError(error.message);
    throw error;
  }
}

/** `<chain>:<seq>:<hash>`, as the published heads list them; the chain id is everything before the last two colons. */
function parseExpected(text: string): ExpectedRecord {
  const match = /^(.+):([1-9][0-9]{0,9}):([0-9a-fA-F]{64})$/.exec(text.trim());
  const seq = Number(match?.[2]);
  if (match === null || !(seq <= 2147483647)) throw new UsageError(`--expect "${text}" is not <chain>:<seq>:<hash> (a seq from 1, a SHA-256 hash in 64 hex digits).`);
  return { chainId: match[1] as string, seq, hash: (match[3] as string).toLowerCase() };
}

export async function runAuditCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseAuditArguments(argv), AUDIT_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(AUDIT_USAGE);
    return 0;
  }
  // First-start credentials go to stderr, so --json output stays parseable.
  return withCliServices(loadConfig({ configFile: args.config }), { ...io, announce: io.err }, async (services) => {
    if (args.subcommand === 'heads') {
      const { heads, digest } = await services.auditChain.heads();
      if (args.json) io.out(printableJson({ heads: heads.map(encodeChainHead), digest }));
      else {
        io.out(heads.length === 0 ? 'No audit chain has records yet.' : formatTable(['chain', 'seq', 'hash', 'updated at'], heads.map((head) => [head.chainId, String(head.seq), head.hash, head.updatedAt])));
        io.out(`digest ${digest}`);
      }
      return 0;
    }
    const verification = await services.auditChain.verify({ chainId: args.organization, expected: [...args.published, ...args.expected] });
    if (args.json) io.out(printableJson(verificationJson(verification)));
    else io.out(verificationText(verification));
    for (const broken of verification.problems) io.err(`understudy: audit chain broken: ${printable(describeProblem(broken))}`);
    return verification.valid ? 0 : 1;
  });
}

/** The API's answer, plus every problem found and each chain's outcome. */
function verificationJson(verification: AuditChainVerification): unknown {
  return {
    ...encodeVerification(verification),
    problems: verification.problems.map(encodeBrokenRecord),
    chains: verification.chains.map((chain) => ({
      chain_id: chain.chainId,
      checked_records: chain.records,
      head: chain.head === null ? null : { seq: chain.head.seq, hash: chain.head.hash },
      broken: chain.broken === null ? null : encodeBrokenRecord(chain.broken),
    })),
  };
}

function verificationText(verification: AuditChainVerification): string {
  const rows = verification.chains.map((chain) => [chain.chainId, String(chain.records), chain.head === null ? '-' : `${chain.head.seq} ${chain.head.hash}`, chain.broken === null ? 'intact' : `broken at ${chain.broken.seq ?? '?'}: ${chain.broken.problem}`]);
  const table = rows.length === 0 ? 'No audit chain has records yet.' : formatTable(['chain', 'records', 'head', 'state'], rows);
  const chains = `${verification.chains.length} chain${verification.chains.length === 1 ? '' : 's'}`;
  const summary = verification.valid
    ? `valid: ${chains}, ${verification.checkedRecords} records checked`
    : `INVALID: ${verification.problems.length} problem${verification.problems.length === 1 ? '' : 's'} (${chains}, ${verification.checkedRecords} records checked)`;
  return `${table}\n${summary}`;
}
