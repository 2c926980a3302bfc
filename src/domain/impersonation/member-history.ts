import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { sharedError } from '../common/errors.js';
import type { OperationContext } from '../common/operation-context.js';
import { decodeCursor, encodeCursor } from '../common/pagination.js';
import type { Transactional } from '../common/transactional.js';
import type { ImpersonationKind, ImpersonationToken, PermissionMask } from './impersonation.js';
import type { ImpersonationStore } from './impersonation-store.js';

/** Impersonations listed per page unless the member asks for another number (1 to MAX_HISTORY_LIMIT). */
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;

/**
 * One impersonation of a member as they see it: the token minted for them and, once redeemed, the
 * impersonated session it started. Never the token itself.
 */
export interface MemberImpersonation {
  readonly tokenId: string;
  /** The impersonated session, once the token was redeemed. */
  readonly memberSessionId: string | null;
  readonly kind: ImpersonationKind;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  readonly reason: string;
  readonly grantId: string | null;
  readonly permissionMask: PermissionMask | null;
  readonly mintedAt: string;
  readonly startedAt: string | null;
  /** The session's expiry once redeemed, the token's before. */
  readonly expiresAt: string;
  readonly endedAt: string | null;
  /** `revoked` (the session or the unredeemed token was ended early) or `expired` (it ran out); null while it can still be used. */
  readonly endReason: string | null;
}

/** Whose history: the member a live member session belongs to. */
export interface HistoryOwner {
  readonly organizationId: string;
  readonly memberId: string;
}

/** What an export of an organization's trail was asked for, recorded as given (resolved organization id). */
export interface ExportedTrail {
  readonly format: 'ndjson';
  readonly filters: Readonly<Record<string, string>>;
}

type HistoryPorts = { readonly impersonation: ImpersonationStore; readonly audit: AuditStore };

/**
 * What customers see of impersonation (docs/impersonation.md, "Member-visible history"): each member
 * the impersonations of themselves; and, for an organization's admins reading its trail, the record
 * of who exported it. Reading changes nothing and is not audited; an export is (the trail is
 * sensitive, so whoever takes a copy of it is on it).
 */
export class MemberHistoryService {
  readonly #store: Transactional<HistoryPorts>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { store: Transactional<HistoryPorts>; clock: Clock; audit: AuditRecorder }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  /** The impersonations of `owner`, newest first, a page at a time (`cursor` from the previous page's `nextCursor`). */
  async impersonationsOf(owner: HistoryOwner, page: { limit?: number | undefined; cursor?: string | undefined }): Promise<{ impersonations: MemberImpersonation[]; nextCursor: string | null }> {
    const limit = page.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) throw sharedError('invalid_limit', `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}.`);
    const position = decodeCursor(page.cursor);
    const rows = await this.#store.impersonation.listMemberImpersonations(owner.organizationId, owner.memberId, {
      limit: limit + 1,
      before: position === null ? null : { createdAt: position.createdAt, tokenId: position.id },
    });
    const now = toTimestamp(this.#clock.now());
    const shown = rows.slice(0, limit);
    const last = shown[shown.length - 1];
    return {
      impersonations: shown.map(({ token, session }) => {
        const common = {
          tokenId: token.tokenId,
          kind: token.kind,
          impersonatorId: token.impersonatorId,
          impersonatorEmailAddress: token.impersonatorEmailAddress,
          reason: token.reason,
          grantId: token.grantId,
          permissionMask: token.permissionMask,
          mintedAt: token.createdAt,
        };
        if (session !== undefined) {
          // A session that ran out ended at its expiry: before the sweep (every 30 seconds) records
          // it, and after, though the sweep notes when it recorded it.
          const expired = session.endReason === 'expired' || (session.endedAt === null && session.expiresAt <= now);
          return {
            ...common,
            memberSessionId: session.memberSessionId,
            startedAt: session.startedAt,
            expiresAt: session.expiresAt,
            endedAt: expired ? session.expiresAt : session.endedAt,
            endReason: expired ? 'expired' : session.endReason,
          };
        }
        return { ...common, memberSessionId: token.memberSessionId, startedAt: token.redeemedAt, expiresAt: token.expiresAt, ...unredeemedEnd(token, now) };
      }),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.token.createdAt, id: last.token.tokenId }) : null,
    };
  }

  /** Records that the member session of `context` exported its organization's trail (before the first line is sent). */
  async recordExport(context: OperationContext, organizationId: string, exported: ExportedTrail): Promise<void> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type: 'impersonation.history_exported',
        organizationId,
        details: { format: exported.format, filters: exported.filters },
      }),
    );
  }
}

/** How a token that started no session ended: revoked, or run out unredeemed; null while it can still be redeemed. */
function unredeemedEnd(token: ImpersonationToken, now: string): { endedAt: string | null; endReason: string | null } {
  if (token.revokedAt !== null) return { endedAt: token.revokedAt, endReason: 'revoked' };
  if (token.redeemedAt === null && token.expiresAt <= now) return { endedAt: token.expiresAt, endReason: 'expired' };
  return { endedAt: null, endReason: null };
}
