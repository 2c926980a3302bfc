import type { PermissionMask } from '../../../domain/impersonation/impersonation.js';
import type { MemberImpersonation } from '../../../domain/impersonation/member-history.js';
import { maskToWire } from '../../../domain/impersonation/permission-mask.js';
import { sessionError } from '../../../domain/sessions/errors.js';
import { objectSchema, str } from '../../json-schema.js';
import { callerOf } from '../../member-requirements.js';
import { extensionOperation } from '../../operation.js';
import { refuseImpersonatedReader } from './history-reader.js';

interface Query {
  /** Digits only (the schema's pattern); the service checks the range (1 to 100). */
  readonly limit?: string;
  readonly cursor?: string;
}

const querySchema = objectSchema({
  limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  cursor: str,
} satisfies Record<keyof Query, unknown>);

/**
 * impersonation.history (our extension): the impersonations of the member whose session the call
 * carries (`X-Stytch-Member-Session` / `X-Stytch-Member-SessionJWT`), newest first. Any member may
 * read their own, and only their own: the member is the session's, never a parameter. Without the
 * headers there is nobody to answer for, so the call is refused rather than answered for the project.
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'impersonation.history',
  method: 'GET',
  url: '/v1/b2b/impersonation/history',
  schema: { querystring: querySchema },
  async memberAuthorization({ context }) {
    refuseImpersonatedReader(context);
    const caller = callerOf(context);
    return { organizationIds: [caller.organizationId], targetMemberId: caller.memberId, permissions: [] };
  },
  async handle({ query, context }, { memberHistory }) {
    if (context.actor.type !== 'member_session') {
      throw sessionError('no_session_arguments', 'The impersonation history is a member\'s own: send the member\'s session as X-Stytch-Member-Session or X-Stytch-Member-SessionJWT.');
    }
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    const page = await memberHistory.impersonationsOf(context.actor, { limit, cursor: query.cursor });
    return { impersonations: page.impersonations.map(encodeMemberImpersonation), next_cursor: page.nextCursor };
  },
});

function encodeMemberImpersonation(entry: MemberImpersonation) {
  return {
    token_id: entry.tokenId,
    member_session_id: entry.memberSessionId,
    kind: entry.kind,
    impersonator_id: entry.impersonatorId,
    impersonator_email_address: entry.impersonatorEmailAddress,
    reason: entry.reason,
    grant_id: entry.grantId,
    permissions: encodePermissions(entry.permissionMask),
    minted_at: entry.mintedAt,
    started_at: entry.startedAt,
    expires_at: entry.expiresAt,
    ended_at: entry.endedAt,
    end_reason: entry.endReason,
  };
}

/** As a mint takes it: `"read_only"`, the list of `resource:action` pairs, or null for no restriction. */
function encodePermissions(mask: PermissionMask | null): 'read_only' | string[] | null {
  if (mask === null) return null;
  const wire = maskToWire(mask);
  return wire === 'read_only' ? wire : [...wire];
}
