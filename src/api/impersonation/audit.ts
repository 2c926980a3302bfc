import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationContext } from '../../domain/common/operation-context.js';
import type { AuditExports } from '../../domain/impersonation/audit-export.js';
import type { ImpersonationAdminService } from '../../domain/impersonation/impersonation-admin-service.js';
import type { MemberHistoryService } from '../../domain/impersonation/member-history.js';
import { IMPERSONATION_RESOURCE } from '../../domain/rbac/understudy-resources.js';
import { ndjsonStream } from '../../http/ndjson-stream.js';
import { encodeAuditEvent } from '../../http/wire/impersonation.js';
import { objectSchema, str } from '../json-schema.js';
import { callerOf, organizationIdOf } from '../member-requirements.js';
import { extensionOperation } from '../operation.js';
import { refuseImpersonatedReader } from './history/history-reader.js';
import { scopeOf, scopeProperties, type ScopeWire } from './scope.js';

interface Query extends ScopeWire {
  /** RFC 3339 UTC bounds, checked by the service so the message can name the expected form. */
  readonly since?: string;
  readonly until?: string;
  readonly cursor?: string;
  /** Digits only (the schema's pattern); the service checks the range. */
  readonly limit?: string;
  readonly format?: 'json' | 'ndjson';
}

const querySchema = objectSchema({
  ...scopeProperties,
  since: str,
  until: str,
  cursor: str,
  limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  format: { type: 'string', enum: ['json', 'ndjson'] },
} satisfies Record<keyof Query, unknown>);

/**
 * impersonation.audit (our extension): the impersonation audit trail, a JSON page at a time, or
 * all of it as NDJSON (`format=ndjson` or `Accept: application/x-ndjson`), streamed. GET only;
 * Fastify answers HEAD with the same handler.
 *
 * With member-session headers, an organization's admins read their own organization's trail: the
 * member's roles must grant `understudy.impersonation:read-audit`, any organization named must be
 * theirs, and the filter is their organization whatever else is asked. Their NDJSON exports are
 * recorded (`impersonation.history_exported`); impersonated sessions are refused.
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'impersonation.audit',
  method: 'GET',
  url: '/v1/b2b/impersonation/audit',
  schema: { querystring: querySchema },
  async memberAuthorization({ query, context }, services) {
    refuseImpersonatedReader(context);
    const organizationId = query.organization_id === undefined ? callerOf(context).organizationId : await organizationIdOf(services, query.organization_id);
    return { organizationIds: [organizationId], permissions: [{ resourceId: IMPERSONATION_RESOURCE, action: 'read-audit' }] };
  },
  async handle({ query, request, reply, context }, { impersonationAdmin, auditExports, memberHistory }) {
    // A member session reads its organization's trail only (memberAuthorization checked that any organization named is it).
    const reader = context.actor.type === 'member_session' ? { context, organizationId: context.actor.organizationId } : undefined;
    const scoped = reader === undefined ? query : { ...query, organization_id: reader.organizationId };
    const wantsNdjson = query.format === 'ndjson' || (request.headers.accept ?? '').includes('application/x-ndjson');
    return wantsNdjson ? auditExport(scoped, request, reply, auditExports, reader && { ...reader, history: memberHistory }) : auditPage(scoped, impersonationAdmin);
  },
});

/** A member session exporting its organization's trail: who is put on the trail for it. */
interface MemberExporter {
  readonly context: OperationContext;
  readonly organizationId: string;
  readonly history: MemberHistoryService;
}

async function auditPage(query: Query, admin: ImpersonationAdminService) {
  const limit = query.limit === undefined ? undefined : Number(query.limit);
  const page = await admin.auditTrail({ ...scopeOf(query), since: query.since, until: query.until, cursor: query.cursor, limit });
  return { events: page.events.map(encodeAuditEvent), next_cursor: page.nextCursor };
}

/**
 * Every matching event, one JSON object a line, streamed a page at a time (audit-export.ts).
 * Opening it takes an export slot and reads the first page, so its errors still get the Stytch envelope.
 */
async function auditExport(query: Query, request: FastifyRequest, reply: FastifyReply, exports: AuditExports, exporter: MemberExporter | undefined): Promise<FastifyReply> {
  const exported = await exports.open({ ...scopeOf(query), since: query.since, until: query.until, cursor: query.cursor });
  // Fastify answers HEAD with this handler and drains a stream body unread: stop before reading on.
  if (request.method === 'HEAD') {
    exported.close();
    return reply.type('application/x-ndjson').send();
  }
  if (exporter !== undefined) {
    // Before the first line: an export that cannot be recorded is not sent.
    try {
      await exporter.history.recordExport(exporter.context, exporter.organizationId, { format: 'ndjson', filters: exportFilters(query) });
    } catch (error) {
      exported.close();
      throw error;
    }
  }
  const stream = ndjsonStream(exported, encodeAuditEvent, {
    onFailure: (error) => request.log.error({ err: error }, 'audit export failed after it began; response cut off'),
    onStall: () => request.log.warn('audit export cut off: the client stopped reading'),
  });
  return reply.type('application/x-ndjson').send(stream);
}

/** The filters of an export as asked for (the organization already the exporter's own), for its record. */
function exportFilters(query: Query): Record<string, string> {
  const given = { organization_id: query.organization_id, member_id: query.member_id, impersonator_id: query.impersonator_id, since: query.since, until: query.until, cursor: query.cursor };
  return Object.fromEntries(Object.entries(given).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
