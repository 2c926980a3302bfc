import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { REDIRECT_URL_TYPES, type RedirectUrlType } from '../domain/redirect-urls/redirect-urls.js';
import type { RedirectUrlListing } from '../domain/redirect-urls/redirect-urls-service.js';
import { printableJson } from '../http/wire/json-text.js';
import type { Services } from '../services.js';
import { formatTable, type Output, printable, withCliServices, parsedOrUsage } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy redirect-urls list|add|remove`: the project's allowed redirect URLs, from the shell. */
export const REDIRECT_URLS_USAGE = `Usage: understudy redirect-urls <subcommand> [options] [--config <file>]

  list     [--json]
           Every allowed redirect URL with its types (* marks the type's default now) and where it
           comes from (configuration, database, built-in), then each type's default.
  add      <url> [--type login,signup,invite,discovery,reset_password] [--default]
           Allow the URL for these types (all five when --type is omitted); --default makes it the
           default of each. Adding a URL that is already stored replaces its types.
  remove   <url>
           Remove a stored URL; new links may no longer use it.

URLs from UNDERSTUDY_REDIRECT_URLS or the config file's redirect_urls are read-only here.
See docs/redirect-urls.md.`;

export type RedirectUrlsArguments = { readonly help: boolean; readonly config: string | undefined } & (
  | { readonly subcommand: 'list'; readonly json: boolean }
  | { readonly subcommand: 'add'; readonly url: string; readonly types: readonly RedirectUrlType[]; readonly isDefault: boolean }
  | { readonly subcommand: 'remove'; readonly url: string }
);

type Subcommand = RedirectUrlsArguments['subcommand'];
const ALLOWED_FLAGS: Record<Subcommand, readonly string[]> = { list: ['json'], add: ['type', 'default'], remove: [] };

/** Checks the arguments before anything is opened; `argv` starts with `redirect-urls <subcommand>`. */
export function parseRedirectUrlsArguments(argv: readonly string[]): RedirectUrlsArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      type: { type: 'string' },
      default: { type: 'boolean' },
    },
  });
  const common = { help: values.help === true, config: values.config };
  const given = positionals[1];
  if (given === undefined && common.help) return { ...common, subcommand: 'list', json: false };
  if (given === undefined) throw new UsageError('Missing redirect-urls subcommand.');
  if (!Object.hasOwn(ALLOWED_FLAGS, given)) throw new UsageError(`Unknown redirect-urls subcommand "${given}".`);
  const subcommand = given as Subcommand;
  const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'help' && !ALLOWED_FLAGS[subcommand].includes(flag));
  if (stray !== undefined) throw new UsageError(`--${stray} does not apply to \`redirect-urls ${subcommand}\`.`);
  if (common.help) return { ...common, subcommand: 'list', json: false };
  if (subcommand === 'list') {
    if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
    return { ...common, subcommand, json: values.json === true };
  }
  const url = positionals[2];
  if (url === undefined || url.trim() === '') throw new UsageError(`Missing the URL: \`understudy redirect-urls ${subcommand} <url>\`.`);
  if (positionals.length > 3) throw new UsageError(`Unexpected argument "${positionals[3]}".`);
  if (subcommand === 'remove') return { ...common, subcommand, url };
  return { ...common, subcommand, url, types: parseTypes(values.type), isDefault: values.default === true };
}

function parseTypes(text: string | undefined): RedirectUrlType[] {
  if (text === undefined) return [...REDIRECT_URL_TYPES];
  const types = text.split(',').map((type) => type.trim()).filter((type) => type !== '');
  if (types.length === 0) throw new UsageError('--type needs at least one of login, signup, invite, discovery, reset_password.');
  const unknown = types.find((type) => !(REDIRECT_URL_TYPES as readonly string[]).includes(type));
  if (unknown !== undefined) throw new UsageError(`--type: "${unknown}" is not one of login, signup, invite, discovery, reset_password.`);
  return [...new Set(types)] as RedirectUrlType[];
}

/**
 * Parses (exit 2 with usage on bad arguments, before anything is opened), opens the services
 * `serve` uses, calls them as the `cli` actor and prints. A domain error exits 1 with its code.
 */
export async function runRedirectUrlsCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseRedirectUrlsArguments(argv), REDIRECT_URLS_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(REDIRECT_URLS_USAGE);
    return 0;
  }
  // First-start credentials go to stderr, so --json output stays parseable.
  return withCliServices(loadConfig({ configFile: args.config }), { ...io, announce: io.err }, (services, context) => runSubcommand(services, context, args, io.out));
}

async function runSubcommand(services: Services, context: OperationContext, args: RedirectUrlsArguments, out: (text: string) => void): Promise<number> {
  const admin = services.redirectUrlsAdmin;
  switch (args.subcommand) {
    case 'list': {
      const listing = await admin.list();
      out(args.json ? printableJson(listingJson(listing)) : listingTable(listing));
      return 0;
    }
    case 'add': {
      const { created, listing } = await admin.save(context, { url: args.url, types: args.types.map((type) => ({ type, isDefault: args.isDefault })) });
      out(`${created ? 'Added' : 'Updated'} ${printable(args.url)} for ${args.types.join(', ')}${args.isDefault ? ' (default)' : ''}.\n\n${listingTable(listing)}`);
      return 0;
    }
    case 'remove': {
      const listing = await admin.remove(context, args.url);
      out(`Removed ${printable(args.url)}.\n\n${listingTable(listing)}`);
      return 0;
    }
  }
}

/** The wire-style form of `list --json`: snake_case, every URL with its types and source, then the defaults. */
function listingJson(listing: RedirectUrlListing): unknown {
  return {
    redirect_urls: listing.redirectUrls.map((entry) => ({
      url: entry.url,
      source: entry.source,
      valid_types: entry.types.map((setting) => ({ type: setting.type, is_default: setting.isDefault })),
    })),
    defaults: listing.defaults,
  };
}

function listingTable(listing: RedirectUrlListing): string {
  const urls = formatTable(
    ['URL', 'TYPES', 'SOURCE'],
    listing.redirectUrls.map((entry) => [entry.url, entry.types.map((setting) => `${setting.type}${setting.isDefault ? '*' : ''}`).join(','), entry.source.replace('_', '-')]),
  );
  const defaults = formatTable(
    ['TYPE', 'DEFAULT'],
    REDIRECT_URL_TYPES.map((type) => [type, listing.defaults[type] ?? '(none)']),
  );
  return `${urls}\n\n${defaults}`;
}
