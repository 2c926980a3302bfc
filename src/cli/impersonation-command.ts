import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { Actor } from '../domain/common/operation-context.js';
import type { AccessGrantView, GrantListQuery } from '../domain/impersonation/access-grants-service.js';
import { DEFAULT_DELEGATED_IMPERSONATION } from '../domain/impersonation/impersonation.js';
import type { ImpersonatedSession, ImpersonationToken } from '../domain/impersonation/impersonation.js';
import { AUDIT_EXPORT_PAGE_SIZE } from '../domain/impersonation/audit-export.js';
import type { AuditTrailQuery, ImpersonationScope, PolicyUpdate, PolicyView } from '../domain/impersonation/impersonation-admin-service.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import { encodeAuditEvent } from '../http/wire/impersonation.js';
import { printableJson } from '../http/wire/json-text.js';
import type { Services } from '../services.js';
import { IMPERSONATE_USAGE, type ImpersonateArguments, NO_REDIRECT_URL, parseImpersonateArguments, runImpersonate } from './impersonate-command.js';
import { formatTable, type Output, printable, withCliServices } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy impersonation policy|grants|grant|sessions|revoke|audit`: the accountability side, over the admin and access-grant services. */
export const IMPERSONATION_USAGE = `Usage: understudy impersonation <subcommand> [options] [--config <file>]

  policy   --organization <ref> [--mode open|by_grant|off | --enable | --disable]
           [--delegated off|members|members_and_admins] [--notify-member | --no-notify-member]
           [--notify-admins | --no-notify-admins] [--redirect-url <url> | --clear-redirect-url]
           Show the organization's impersonation policy; with a change flag, change it first.
           The CLI may tighten what the organization chose, not loosen it: --mode open (or --enable)
           from by_grant or off, --no-notify-member and --no-notify-admins need the organization's
           own admin (their member session, through your app) and exit 1 here.
  grants   [--organization <ref>] [--status requested|open|expired|denied|revoked]
           Access grants, newest first.
  grant request --organization <ref> --duration-minutes <n> --reason <text> [--member <ref>]...
           Ask the organization for an access grant (it stays requested until one of its members
           approves it); without --member it asks for every member.
  grant revoke <grant_id>
           End an open access grant now, and the impersonations started or minted under it.
  sessions [--organization <ref>] [--member <ref>] [--impersonator <id|email>]
           The impersonated sessions going on now.
  revoke   (--session <member_session_id> | --token <token_id> | --impersonator <id|email> | --organization <ref> | --member <ref>)
           End the matching impersonated sessions and revoke the matching unredeemed tokens at once
           (flags combine to narrow; --session ends only sessions, --token revokes only tokens).
  audit    [--organization <ref>] [--member <ref>] [--impersonator <id|email>] [--since <time>] [--until <time>] [--ndjson]
           The impersonation audit trail in the order it was written; --ndjson prints one event a line,
           exactly as GET /v1/b2b/impersonation/audit?format=ndjson. Times are RFC 3339 UTC (2026-01-01T00:00:00Z).

<ref> is an organization id, slug or external id; for --member, a member id (or external id or email
address, with --organization). --impersonator takes an operator id or email address, or any impersonator
id or email address, and finds that person under either.
See docs/impersonation.md.`;

type Subcommand = 'policy' | 'grants' | 'grant' | 'sessions' | 'revoke' | 'audit';

export type ImpersonationArguments = { readonly command: 'impersonation'; readonly help: boolean; readonly config: string | undefined } & (
  | { readonly subcommand: 'policy'; readonly organization: string; readonly change: PolicyUpdate }
  | { readonly subcommand: 'grants'; readonly query: GrantListQuery }
  | GrantArguments
  | { readonly subcommand: 'sessions' | 'revoke'; readonly scope: ImpersonationScope }
  | { readonly subcommand: 'audit'; readonly query: AuditTrailQuery; readonly ndjson: boolean }
);

type GrantArguments =
  | {
      readonly subcommand: 'grant';
      readonly action: 'request';
      readonly organization: string;
      readonly members: readonly string[] | undefined;
      readonly durationMinutes: number;
      readonly reason: string;
    }
  | { readonly subcommand: 'grant'; readonly action: 'revoke'; readonly grantId: string };

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const OPTIONS: Record<Subcommand, NonNullable<ParseArgsConfig['options']>> = {
  policy: {
    organization: text,
    enable: flag,
    disable: flag,
    mode: text,
    delegated: text,
    'notify-member': flag,
    'no-notify-member': flag,
    'notify-admins': flag,
    'no-notify-admins': flag,
    'redirect-url': text,
    'clear-redirect-url': flag,
  },
  grants: { organization: text, status: text },
  grant: { organization: text, member: { type: 'string', multiple: true }, 'duration-minutes': text, reason: text },
  sessions: { organization: text, member: text, impersonator: text },
  revoke: { session: text, token: text, organization: text, member: text, impersonator: text },
  audit: { organization: text, member: text, impersonator: text, since: text, until: text, ndjson: flag },
};
/** What the audit service accepts for since/until, checked here so a typo exits 2 before anything opens. */
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MODES = ['open', 'by_grant', 'off'];
const DELEGATED = ['off', 'members', 'members_and_admins'];
const GRANT_STATES = ['requested', 'open', 'expired', 'denied', 'revoked'];

/** Checks the arguments before anything is opened; `argv` starts with `impersonation <subcommand>`. */
export function parseImpersonationArguments(argv: readonly string[]): ImpersonationArguments {
  const given = argv.find((argument, index) => index > 0 && !argument.startsWith('-') && argv[index - 1] !== '--config');
  const subcommand = given !== undefined && Object.hasOwn(OPTIONS, given) ? (given as Subcommand) : undefined;
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (subcommand === undefined && !wantsHelp) throw new UsageError(given === undefined ? 'Missing impersonation subcommand.' : `Unknown impersonation subcommand "${given}".`);
  const options = { config: text, help: { type: 'boolean', short: 'h' }, ...OPTIONS[subcommand ?? 'sessions'] } as const;
  const parsed = parseArgs({ args: [...argv], allowPositionals: true, options });
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  // `grant request` and `grant revoke <grant_id>` take more words; every other subcommand none.
  const words = subcommand === 'grant' ? 4 : 2;
  if (positionals.length > words) throw new UsageError(`Unexpected argument "${positionals[words]}".`);
  const value = (name: string): string | undefined => {
    const found = values[name];
    return typeof found === 'string' ? found : undefined;
  };
  const isSet = (name: string): boolean => values[name] !== undefined;
  const common = { command: 'impersonation', help: values.help === true, config: value('config') } as const;
  const scope: ImpersonationScope = {
    organization: value('organization'),
    member: value('member'),
    impersonatorId: value('impersonator'),
    memberSessionId: value('session'),
    tokenId: value('token'),
  };
  // An address alone could name members of several organizations.
  if (!common.help && subcommand !== 'grant' && value('member')?.includes('@') === true && value('organization') === undefined) {
    throw new UsageError('--member with an email address needs --organization too.');
  }
  switch (subcommand ?? 'sessions') {
    case 'policy': {
      if (!common.help && value('organization') === undefined) throw new UsageError('Missing --organization.');
      const pairs = [['enable', 'disable'], ['notify-member', 'no-notify-member'], ['notify-admins', 'no-notify-admins'], ['redirect-url', 'clear-redirect-url']];
      for (const [one, other] of pairs) if (isSet(one as string) && isSet(other as string)) throw new UsageError(`Give --${one} or --${other}, not both.`);
      if (isSet('mode') && (isSet('enable') || isSet('disable'))) throw new UsageError('Give --mode or --enable/--disable, not both.');
      const mode = value('mode');
      if (mode !== undefined && !MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')} (got "${mode}").`);
      const delegated = value('delegated');
      if (delegated !== undefined && !DELEGATED.includes(delegated)) throw new UsageError(`--delegated must be one of ${DELEGATED.join(', ')} (got "${delegated}").`);
      const either = (yes: string, no: string): boolean | undefined => (isSet(yes) ? true : isSet(no) ? false : undefined);
      const change: PolicyUpdate = {
        enabled: either('enable', 'disable'),
        accessMode: mode,
        delegated,
        notifyMember: either('notify-member', 'no-notify-member'),
        notifyAdmins: either('notify-admins', 'no-notify-admins'),
        redirectUrl: isSet('clear-redirect-url') ? null : value('redirect-url'),
      };
      return { ...common, subcommand: 'policy', organization: value('organization') ?? '', change };
    }
    case 'grants': {
      const status = value('status');
      if (status !== undefined && !GRANT_STATES.includes(status)) throw new UsageError(`--status must be one of ${GRANT_STATES.join(', ')} (got "${status}").`);
      return { ...common, subcommand: 'grants', query: { organization: value('organization'), status } };
    }
    case 'grant':
      return { ...common, ...parseGrant(positionals.slice(2), values, common.help) };
    case 'revoke':
      // Revoking everything by accident must be impossible: at least one narrowing is required.
      if (!common.help && Object.values(scope).every((part) => part === undefined)) {
        throw new UsageError('Give at least one of --session, --token, --impersonator, --organization or --member.');
      }
      return { ...common, subcommand: 'revoke', scope };
    case 'sessions':
      return { ...common, subcommand: 'sessions', scope };
    case 'audit':
      for (const bound of ['since', 'until']) {
        const time = value(bound);
        if (time !== undefined && !RFC3339_UTC.test(time)) throw new UsageError(`--${bound} must be an RFC 3339 UTC time such as 2026-01-01T00:00:00Z (got "${time}").`);
      }
      return { ...common, subcommand: 'audit', query: { ...scope, since: value('since'), until: value('until') }, ndjson: isSet('ndjson') };
  }
}

/** `grant request …` or `grant revoke <grant_id>`, checked before anything is opened. */
function parseGrant(
  words: readonly string[],
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  help: boolean,
): GrantArguments {
  const [action, grantId] = words;
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  if (action === 'revoke') {
    if (!help && (grantId === undefined || grantId === '')) throw new UsageError('Missing the <grant_id> to revoke.');
    for (const name of ['organization', 'member', 'duration-minutes', 'reason']) if (values[name] !== undefined) throw new UsageError(`grant revoke takes only the grant id, not --${name}.`);
    return { subcommand: 'grant', action: 'revoke', grantId: grantId ?? '' };
  }
  if (action !== 'request' && !help) throw new UsageError(action === undefined ? 'Missing grant action: request or revoke.' : `Unknown grant action "${action}": request or revoke.`);
  if (grantId !== undefined) throw new UsageError(`Unexpected argument "${grantId}".`);
  const organization = text('organization');
  const duration = text('duration-minutes');
  const reason = text('reason');
  if (!help) {
    if (organization === undefined) throw new UsageError('Missing --organization.');
    if (duration === undefined) throw new UsageError('Missing --duration-minutes.');
    if (!/^\d+$/.test(duration)) throw new UsageError(`--duration-minutes must be a whole number of minutes (got "${duration}").`);
  }
  const members = values.member as string[] | undefined;
  return { subcommand: 'grant', action: 'request', organization: organization ?? '', members, durationMinutes: Number(duration ?? '0'), reason: reason ?? '' };
}

/**
 * `understudy impersonate …` and `understudy impersonation …`: parse (exit 2 with usage on bad
 * arguments, before anything is opened), open the services `serve` uses, call them as the `cli`
 * actor, print. A domain error exits 1 with its error_type and message.
 */
export async function runImpersonationCli(command: 'impersonate' | 'impersonation', argv: readonly string[], io: Output): Promise<number> {
  const isImpersonate = command === 'impersonate';
  const usage = isImpersonate ? IMPERSONATE_USAGE : IMPERSONATION_USAGE;
  let args: ImpersonateArguments | ImpersonationArguments;
  try {
    args = isImpersonate ? parseImpersonateArguments(argv) : parseImpersonationArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw error;
    io.err(`${printable((error as Error).message)}\n\n${usage}`);
    return 2;
  }
  if (args.help) {
    io.out(usage);
    return 0;
  }
  const config = loadConfig({ configFile: args.config });
  // First-start credentials go to stderr, so --json and --ndjson output stays parseable.
  return withCliServices(config, { ...io, announce: io.err }, (services, context) =>
    args.command === 'impersonate' ? runImpersonate(services, context, args, io.out) : runAdmin(services, context, args, io),
  );
}

async function runAdmin(services: Services, context: OperationContext, args: ImpersonationArguments, io: Output): Promise<number> {
  const admin = services.impersonationAdmin;
  const out = io.out;
  switch (args.subcommand) {
    case 'policy': {
      const isChange = Object.values(args.change).some((part) => part !== undefined);
      const view = isChange ? await admin.setPolicy(context, args.organization, args.change) : await admin.getPolicy(args.organization);
      out(`${isChange ? 'Updated the impersonation policy.\n' : ''}${describePolicy(view)}`);
      return 0;
    }
    case 'grants': {
      const grants = await services.accessGrants.list(args.query);
      out(grants.length === 0 ? 'No access grants match.' : grantTable(grants));
      return 0;
    }
    case 'grant': {
      if (args.action === 'revoke') {
        const revoked = await services.accessGrants.revoke(context, args.grantId);
        out(`Revoked access grant ${revoked.grantId}; the impersonations under it have ended.\n${grantTable([revoked])}`);
        return 0;
      }
      const requested = await services.accessGrants.create(context, {
        organizationReference: args.organization,
        memberReferences: args.members,
        durationMinutes: args.durationMinutes,
        reason: args.reason,
      });
      out(`Requested access grant ${requested.grantId}: a member of the organization allowed understudy.support-access:grant must approve it.\n${grantTable([requested])}`);
      return 0;
    }
    case 'sessions': {
      const sessions = await admin.listActive(args.scope);
      out(sessions.length === 0 ? 'No active impersonated sessions.' : sessionTable(sessions));
      return 0;
    }
    case 'revoke': {
      const ended = await admin.endImpersonations(context, args.scope);
      out(describeEnded(ended.sessions, ended.tokens));
      return 0;
    }
    case 'audit': {
      if (args.ndjson) {
        // A page at a time, each written once stdout took the previous one: the trail can be long.
        // Same encoder and line format as GET /v1/b2b/impersonation/audit?format=ndjson.
        for await (const events of auditTrailPages(services, args.query)) {
          if (events.length > 0) out(events.map((event) => printableJson(encodeAuditEvent(event))).join('\n'));
          await io.drained?.();
        }
        return 0;
      }
      const events: AuditEvent[] = [];
      for await (const page of auditTrailPages(services, args.query)) events.push(...page);
      out(events.length === 0 ? 'No impersonation events match.' : auditTable(events));
      return 0;
    }
  }
}

/** The matching events a page at a time, as the NDJSON export reads them. */
async function* auditTrailPages(services: Services, query: AuditTrailQuery): AsyncGenerator<AuditEvent[]> {
  let cursor: string | undefined;
  do {
    const page = await services.impersonationAdmin.auditTrail({ ...query, cursor, limit: AUDIT_EXPORT_PAGE_SIZE });
    yield page.events;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function describePolicy(view: PolicyView): string {
  const onOff = (enabled: boolean): string => (enabled ? 'enabled' : 'disabled');
  const rows = [
    ['organization', `${view.organization.organizationId} (${view.organization.organizationSlug})`],
    ['organization switch', onOff(view.stored?.enabled ?? true)],
    ['access mode', view.stored?.accessMode ?? 'open'],
    ['delegated impersonation', view.stored?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION],
    ['notify member', view.stored?.notifyMember === true ? 'yes' : 'no'],
    ['notify admins', view.stored?.notifyAdmins === true ? 'yes' : 'no'],
    ['organization redirect URL', view.stored?.redirectUrl ?? '-'],
    ['project switch', `${onOff(view.project.enabled)} (UNDERSTUDY_IMPERSONATION_ENABLED)`],
    ['project redirect URL', `${view.project.redirectUrl ?? '-'} (UNDERSTUDY_IMPERSONATION_REDIRECT_URL)`],
    ['effective', view.effective.enabled ? 'allowed' : `refused (disabled by the ${view.effective.disabledBy})`],
    ['effective redirect URL', view.effective.redirectUrl ?? NO_REDIRECT_URL],
    ['updated at', view.stored?.updatedAt ?? 'never'],
  ];
  return rows.map(([name, value]) => `${`${name}:`.padEnd(27)}${printable(value ?? '')}`).join('\n');
}

function grantTable(grants: readonly AccessGrantView[]): string {
  return formatTable(
    ['GRANT', 'ORGANIZATION', 'STATUS', 'MEMBERS', 'REQUESTED BY', 'OPENED', 'EXPIRES', 'REASON'],
    grants.map((grant) => [
      grant.grantId,
      grant.organizationId,
      grant.status,
      grant.memberIds === null ? 'all' : grant.memberIds.join(','),
      actorLabel(grant.requestedBy),
      grant.openedAt ?? '-',
      grant.expiresAt ?? `(${grant.durationMinutes} min once opened)`,
      grant.reason,
    ]),
  );
}

function actorLabel(actor: Actor): string {
  switch (actor.type) {
    case 'member_session':
      return `member ${actor.memberId}`;
    case 'operator':
      return `operator ${actor.emailAddress}`;
    default:
      return actor.type;
  }
}

function describeEnded(sessions: readonly ImpersonatedSession[], tokens: readonly ImpersonationToken[]): string {
  if (sessions.length === 0 && tokens.length === 0) return 'No active impersonated session or unredeemed token matched; nothing was revoked.';
  const parts: string[] = [];
  if (sessions.length > 0) parts.push(`Revoked ${sessions.length} impersonated session${sessions.length === 1 ? '' : 's'}:\n${sessionTable(sessions)}`);
  if (tokens.length > 0) parts.push(`Revoked ${tokens.length} unredeemed token${tokens.length === 1 ? '' : 's'}:\n${tokenTable(tokens)}`);
  return parts.join('\n\n');
}

function tokenTable(tokens: readonly ImpersonationToken[]): string {
  return formatTable(
    ['TOKEN', 'ORGANIZATION', 'MEMBER', 'IMPERSONATOR', 'REASON', 'MINTED', 'EXPIRES'],
    tokens.map((token) => [token.tokenId, token.organizationId, token.memberId, token.impersonatorEmailAddress, token.reason, token.createdAt, token.expiresAt]),
  );
}

function sessionTable(sessions: readonly ImpersonatedSession[]): string {
  return formatTable(
    ['SESSION', 'ORGANIZATION', 'MEMBER', 'IMPERSONATOR', 'REASON', 'STARTED', 'EXPIRES'],
    sessions.map((session) => [
      session.memberSessionId,
      session.organizationId,
      session.memberId,
      session.impersonatorEmailAddress,
      session.reason,
      session.startedAt,
      session.expiresAt,
    ]),
  );
}

function auditTable(events: readonly AuditEvent[]): string {
  const details = (event: AuditEvent): string =>
    Object.entries(event.details)
      .map(([name, value]) => `${name}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`)
      .join(' ');
  return formatTable(
    ['TIME', 'EVENT', 'ORGANIZATION', 'MEMBER', 'IMPERSONATOR', 'ACTOR', 'DETAILS'],
    events.map((event) => [
      event.occurredAt,
      event.type,
      event.organizationId ?? '-',
      event.memberId ?? '-',
      event.impersonatorId ?? '-',
      event.actor.type,
      details(event),
    ]),
  );
}

