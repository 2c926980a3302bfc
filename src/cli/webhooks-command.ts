import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { WebhookDelivery, WebhookEndpoint } from '../domain/webhooks/webhook.js';
import { PROJECT_VIEWER } from '../domain/webhooks/webhooks-service.js';
import { printableJson } from '../http/wire/json-text.js';
import { encodeWebhookDelivery, encodeWebhookEndpoint } from '../http/wire/webhooks.js';
import type { Services } from '../services.js';
import { formatTable, type Output, parsedOrUsage, printable, withCliServices } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy webhooks add|list|disable|deliveries`: webhook endpoints and the delivery log, from the shell. */
export const WEBHOOKS_USAGE = `Usage: understudy webhooks <subcommand> [options] [--config <file>]

  add         --url <https://…> [--organization <id|slug|external id>] [--description <text>] [--json]
              Add an endpoint: the organization's (its events only), or without --organization the
              project's (every organization's events). Prints its signing secret, this once.
  list        [--organization <id|slug|external id>] [--json]
              Endpoints, newest first, enabled and disabled.
  disable     <endpoint id>
              The endpoint receives nothing more; deliveries still pending to it fail.
  deliveries  [--endpoint <endpoint id>] [--organization <ref>] [--status pending|delivered|failed]
              [--limit <1-1000>] [--json]
              The delivery log, newest first: status, attempts, the last answer.

See docs/webhooks.md.`;

export type WebhooksArguments = { readonly help: boolean; readonly config: string | undefined } & (
  | { readonly subcommand: 'add'; readonly url: string; readonly organization: string | undefined; readonly description: string | undefined; readonly json: boolean }
  | { readonly subcommand: 'list'; readonly organization: string | undefined; readonly json: boolean }
  | { readonly subcommand: 'disable'; readonly endpointId: string }
  | {
      readonly subcommand: 'deliveries';
      readonly endpointId: string | undefined;
      readonly organization: string | undefined;
      readonly status: string | undefined;
      readonly limit: number | undefined;
      readonly json: boolean;
    }
);

type Subcommand = WebhooksArguments['subcommand'];
const ALLOWED_FLAGS: Record<Subcommand, readonly string[]> = {
  add: ['url', 'organization', 'description', 'json'],
  list: ['organization', 'json'],
  disable: [],
  deliveries: ['endpoint', 'organization', 'status', 'limit', 'json'],
};

/** Checks the arguments before anything is opened; `argv` starts with `webhooks <subcommand>`. */
export function parseWebhooksArguments(argv: readonly string[]): WebhooksArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      organization: { type: 'string' },
      description: { type: 'string' },
      endpoint: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const common = { help: values.help === true, config: values.config };
  const given = positionals[1];
  if (given === undefined && common.help) return { ...common, subcommand: 'list', organization: undefined, json: false };
  if (given === undefined) throw new UsageError('Missing webhooks subcommand.');
  if (!Object.hasOwn(ALLOWED_FLAGS, given)) throw new UsageError(`Unknown webhooks subcommand "${given}".`);
  const subcommand = given as Subcommand;
  const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'help' && !ALLOWED_FLAGS[subcommand].includes(flag));
  if (stray !== undefined) throw new UsageError(`--${stray} does not apply to \`webhooks ${subcommand}\`.`);
  if (common.help) return { ...common, subcommand: 'list', organization: undefined, json: false };
  const json = values.json === true;
  if (subcommand === 'disable') {
    const endpointId = positionals[2];
    if (endpointId === undefined || endpointId.trim() === '') throw new UsageError('Missing the endpoint id: `understudy webhooks disable <endpoint id>`.');
    if (positionals.length > 3) throw new UsageError(`Unexpected argument "${positionals[3]}".`);
    return { ...common, subcommand, endpointId };
  }
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
  if (subcommand === 'add') {
    if (values.url === undefined || values.url.trim() === '') throw new UsageError('Missing --url.');
    return { ...common, subcommand, url: values.url, organization: values.organization, description: values.description, json };
  }
  if (subcommand === 'list') return { ...common, subcommand, organization: values.organization, json };
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!/^\d+$/.test(values.limit ?? '') || limit < 1 || limit > 1000)) throw new UsageError('--limit must be an integer from 1 to 1000.');
  if (values.status !== undefined && !['pending', 'delivered', 'failed'].includes(values.status)) throw new UsageError('--status must be pending, delivered or failed.');
  return { ...common, subcommand, endpointId: values.endpoint, organization: values.organization, status: values.status, limit, json };
}

/**
 * Parses (exit 2 with usage on bad arguments, before anything is opened), opens the services
 * `serve` uses, calls them as the `cli` actor and prints. A domain error exits 1 with its code.
 */
export async function runWebhooksCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseWebhooksArguments(argv), WEBHOOKS_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(WEBHOOKS_USAGE);
    return 0;
  }
  // First-start credentials go to stderr, so --json output stays parseable.
  return withCliServices(loadConfig({ configFile: args.config }), { ...io, announce: io.err }, (services, context) => runSubcommand(services, context, args, io.out));
}

async function runSubcommand(services: Services, context: OperationContext, args: WebhooksArguments, out: (text: string) => void): Promise<number> {
  const webhooks = services.webhooks;
  switch (args.subcommand) {
    case 'add': {
      const { endpoint, secret } = await webhooks.addEndpoint(context, { organization: args.organization ?? null, url: args.url, description: args.description });
      if (args.json) out(printableJson({ endpoint: encodeWebhookEndpoint(endpoint), secret }));
      else out(`Added ${endpoint.endpointId} (${endpoint.organizationId === null ? "the project's" : `organization ${endpoint.organizationId}`}): ${printable(endpoint.url)}\nsecret: ${secret}\nKeep the secret now: it is not shown again.`);
      return 0;
    }
    case 'list': {
      const endpoints = await webhooks.listEndpoints(PROJECT_VIEWER, args.organization);
      out(args.json ? printableJson({ endpoints: endpoints.map(encodeWebhookEndpoint) }) : endpointsTable(endpoints));
      return 0;
    }
    case 'disable': {
      const endpoint = await webhooks.disableEndpoint(context, PROJECT_VIEWER, args.endpointId);
      out(`Disabled ${endpoint.endpointId} at ${endpoint.disabledAt ?? ''}.`);
      return 0;
    }
    case 'deliveries': {
      const deliveries = await webhooks.listDeliveries(PROJECT_VIEWER, { endpointId: args.endpointId, organization: args.organization, status: args.status, limit: args.limit });
      out(args.json ? printableJson({ deliveries: deliveries.map(encodeWebhookDelivery) }) : deliveriesTable(deliveries));
      return 0;
    }
  }
}

function endpointsTable(endpoints: readonly WebhookEndpoint[]): string {
  return formatTable(
    ['ENDPOINT', 'OWNER', 'URL', 'DESCRIPTION', 'CREATED', 'DISABLED'],
    endpoints.map((endpoint) => [endpoint.endpointId, endpoint.organizationId ?? '(project)', endpoint.url, endpoint.description, endpoint.createdAt, endpoint.disabledAt ?? '']),
  );
}

function deliveriesTable(deliveries: readonly WebhookDelivery[]): string {
  return formatTable(
    ['DELIVERY', 'ENDPOINT', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'CREATED'],
    deliveries.map((delivery) => [
      delivery.deliveryId,
      delivery.endpointId,
      delivery.eventType,
      delivery.status,
      String(delivery.attempts),
      delivery.lastStatusCode !== null ? String(delivery.lastStatusCode) : (delivery.lastError ?? ''),
      delivery.createdAt,
    ]),
  );
}
