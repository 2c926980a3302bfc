import { parseArgs } from 'node:util';
import type { MintedToken } from '../domain/impersonation/impersonation-service.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { Services } from '../services.js';
import { encodeMintedToken } from '../http/wire/impersonation.js';
import { printableJson } from '../http/wire/json-text.js';
import { printable } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy impersonate`: mints an impersonation token as POST /v1/b2b/impersonation does. */
export const IMPERSONATE_USAGE = `Usage: understudy impersonate --organization <id|slug|external id> --member <id|external id|email>
         (--operator <operator id|email> | --impersonator-email <email> [--impersonator-id <id>]) --reason <text>
         [--expiration-minutes <1-5>] [--json] [--config <file>]

Mints a single-use impersonation token and prints it with its expiry and the impersonation URL.
Redeem it with impersonation.authenticate; the session it starts lasts 60 minutes.

  --operator             A console operator who will act as the member: recorded under their operator
                         id and email address, as when they impersonate from the console.
  --impersonator-email   Who will act as the member (recorded on the session and in the audit trail).
                         An operator's address is recorded as that operator, as with --operator.
  --impersonator-id      Their id in your staff system; defaults to the email address.
  --reason               Why, e.g. a ticket number: required, 1-1024 characters.
  --expiration-minutes   How long the token stays redeemable: 1 to 5 (default 5).
  --json                 Print {token_id, impersonation_token, expires_at, impersonation_url, member_id, organization_id}.

See docs/impersonation.md.`;

export interface ImpersonateArguments {
  readonly command: 'impersonate';
  readonly help: boolean;
  readonly config: string | undefined;
  readonly organization: string;
  readonly member: string;
  readonly impersonatorEmail: string;
  readonly impersonatorId: string | undefined;
  /** An operator's id or email address, instead of --impersonator-email and --impersonator-id. */
  readonly operator: string | undefined;
  /** Left to the service when absent: refusing a mint without a reason is audited (docs/impersonation.md). */
  readonly reason: string | undefined;
  readonly expirationMinutes: number | undefined;
  readonly json: boolean;
}

export const NO_REDIRECT_URL = "no redirect URL configured: set UNDERSTUDY_IMPERSONATION_REDIRECT_URL or the organization's policy";

/** Checks the arguments before anything is opened; `argv` starts with the word `impersonate`. */
export function parseImpersonateArguments(argv: readonly string[]): ImpersonateArguments {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      organization: { type: 'string' },
      member: { type: 'string' },
      'impersonator-email': { type: 'string' },
      'impersonator-id': { type: 'string' },
      operator: { type: 'string' },
      reason: { type: 'string' },
      'expiration-minutes': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const extra = positionals.slice(1);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}".`);
  const common = { command: 'impersonate', config: values.config, json: values.json === true } as const;
  if (values.help === true) {
    return { ...common, help: true, organization: '', member: '', impersonatorEmail: '', impersonatorId: undefined, operator: undefined, reason: undefined, expirationMinutes: undefined };
  }
  const blank = (name: 'organization' | 'member' | 'impersonator-email' | 'operator'): boolean => values[name] === undefined || values[name].trim() === '';
  const hasOperator = values.operator !== undefined;
  if (hasOperator && (values['impersonator-email'] !== undefined || values['impersonator-id'] !== undefined)) {
    throw new UsageError('Give --operator, or --impersonator-email (and --impersonator-id), not both.');
  }
  const missing = (['organization', 'member', hasOperator ? 'operator' : 'impersonator-email'] as const).filter(blank);
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map((name) => `--${name}`).join(', ')}.`);
  const minutes = values['expiration-minutes'];
  // Only the syntax is checked here; the range (1-5) is the service's rule, refused and audited there.
  if (minutes !== undefined && !/^\d{1,4}$/.test(minutes)) throw new UsageError(`--expiration-minutes must be a whole number of minutes from 1 to 5 (got "${minutes}").`);
  return {
    ...common,
    help: false,
    organization: values.organization as string,
    member: values.member as string,
    impersonatorEmail: values['impersonator-email'] ?? '',
    impersonatorId: values['impersonator-id'],
    operator: values.operator,
    reason: values.reason,
    expirationMinutes: minutes === undefined ? undefined : Number(minutes),
  };
}

/** Mints, then prints the token, its expiry and the URL (or JSON with the fields of the HTTP answer). */
export async function runImpersonate(services: Services, context: OperationContext, args: ImpersonateArguments, out: (text: string) => void): Promise<number> {
  const minted = await services.impersonation.mint(context, {
    organizationReference: args.organization,
    memberReference: args.member,
    // Without a staff-system id, the email address identifies the impersonator (docs/impersonation.md);
    // an operator's address is recorded under their operator id by the service.
    impersonatorId: args.impersonatorId ?? args.impersonatorEmail.trim().toLowerCase(),
    impersonatorEmailAddress: args.impersonatorEmail,
    operator: args.operator,
    reason: args.reason,
    expirationMinutes: args.expirationMinutes,
  });
  out(args.json ? printableJson(encodeMintedToken(minted)) : describeMinted(minted));
  return 0;
}

function describeMinted(minted: MintedToken): string {
  return [
    `Impersonation token for member ${printable(minted.member.memberId)} (${printable(minted.member.emailAddress)}) of organization ${printable(minted.organization.organizationId)} (${printable(minted.organization.organizationSlug)}):`,
    `  token:       ${minted.impersonationToken}`,
    `  token id:    ${minted.tokenId}`,
    `  expires at:  ${minted.expiresAt} (single use)`,
    `  URL:         ${minted.impersonationUrl === null ? NO_REDIRECT_URL : printable(minted.impersonationUrl)}`,
  ].join('\n');
}
