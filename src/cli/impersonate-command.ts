import { parseArgs } from 'node:util';
import type { MintedToken } from '../domain/impersonation/impersonation-service.js';
import type { OperationContext } from '../domain/shared/operation-context.js';
import type { Services } from '../services.js';
import { UsageError } from './keys-command.js';

/** `understudy impersonate`: mints an impersonation token as POST /v1/b2b/impersonation does. */
export const IMPERSONATE_USAGE = `Usage: understudy impersonate --organization <id|slug|external id> --member <id|external id|email>
         --impersonator-email <email> [--impersonator-id <id>] --reason <text>
         [--expiration-minutes <1-5>] [--json] [--config <file>]

Mints a single-use impersonation token and prints it with its expiry and the impersonation URL.
Redeem it with impersonation.authenticate; the session it starts lasts 60 minutes.

  --impersonator-email   Who will act as the member (recorded on the session and in the audit trail).
  --impersonator-id      Their id in your staff system; defaults to the email address.
  --reason               Why, e.g. a ticket number: required, 1-1024 characters.
  --expiration-minutes   How long the token stays redeemable: 1 to 5 (default 5).
  --json                 Print {impersonation_token, expires_at, impersonation_url, member_id, organization_id}.

See docs/impersonation.md.`;

export interface ImpersonateArguments {
  readonly command: 'impersonate';
  readonly help: boolean;
  readonly config: string | undefined;
  readonly organization: string;
  readonly member: string;
  readonly impersonatorEmail: string;
  readonly impersonatorId: string | undefined;
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
      reason: { type: 'string' },
      'expiration-minutes': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const extra = positionals.slice(1);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}".`);
  const common = { command: 'impersonate', config: values.config, json: values.json === true } as const;
  if (values.help === true) {
    return { ...common, help: true, organization: '', member: '', impersonatorEmail: '', impersonatorId: undefined, reason: undefined, expirationMinutes: undefined };
  }
  const missing = (['organization', 'member', 'impersonator-email'] as const).filter((name) => values[name] === undefined || values[name].trim() === '');
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map((name) => `--${name}`).join(', ')}.`);
  const minutes = values['expiration-minutes'];
  // Only the syntax is checked here; the range (1-5) is the service's rule, refused and audited there.
  if (minutes !== undefined && !/^\d{1,4}$/.test(minutes)) throw new UsageError(`--expiration-minutes must be a whole number of minutes from 1 to 5 (got "${minutes}").`);
  return {
    ...common,
    help: false,
    organization: values.organization as string,
    member: values.member as string,
    impersonatorEmail: values['impersonator-email'] as string,
    impersonatorId: values['impersonator-id'],
    reason: values.reason,
    expirationMinutes: minutes === undefined ? undefined : Number(minutes),
  };
}

/** Mints, then prints the token, its expiry and the URL (or JSON with the fields of the HTTP answer). */
export async function runImpersonate(services: Services, context: OperationContext, args: ImpersonateArguments, out: (text: string) => void): Promise<number> {
  const minted = await services.impersonation.mint(context, {
    organizationReference: args.organization,
    memberReference: args.member,
    // Without a staff-system id, the email address identifies the impersonator (docs/impersonation.md).
    impersonatorId: args.impersonatorId ?? args.impersonatorEmail.trim().toLowerCase(),
    impersonatorEmailAddress: args.impersonatorEmail,
    reason: args.reason,
    expirationMinutes: args.expirationMinutes,
  });
  out(args.json ? JSON.stringify(encodeMinted(minted)) : describeMinted(minted));
  return 0;
}

function encodeMinted(minted: MintedToken): Record<string, string | null> {
  return {
    impersonation_token: minted.impersonationToken,
    expires_at: minted.expiresAt,
    impersonation_url: minted.impersonationUrl,
    member_id: minted.member.memberId,
    organization_id: minted.organization.organizationId,
  };
}

function describeMinted(minted: MintedToken): string {
  return [
    `Impersonation token for member ${minted.member.memberId} (${minted.member.emailAddress}) of organization ${minted.organization.organizationId} (${minted.organization.organizationSlug}):`,
    `  token:       ${minted.impersonationToken}`,
    `  expires at:  ${minted.expiresAt} (single use)`,
    `  URL:         ${minted.impersonationUrl ?? NO_REDIRECT_URL}`,
  ].join('\n');
}
