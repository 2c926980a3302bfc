import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditExports } from '../../domain/impersonation/audit-export.js';
import type { ImpersonationAdminService } from '../../domain/impersonation/impersonation-admin-service.js';
import { ndjsonStream } from '../../http/ndjson-stream.js';
import { encodeAuditEvent } from '../../http/wire/impersonation.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
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
 */
export default extensionOperation<Record<string, never>, Query>({
  name: 'impersonation.audit',
  method: 'GET',
  url: '/v1/b2b/impersonation/audit',
  schema: { querystring: querySchema },
  async handle({ query, request, reply }, { impersonationAdmin, auditExports }) {
    const wantsNdjson = query.format === 'ndjson' || (request.headers.accept ?? '').includes('application/x-ndjson');
    return wantsNdjson ? auditExport(query, request, reply, auditExports) : auditPage(query, impersonationAdmin);
  },
});

async function auditPage(query: Query, admin: ImpersonationAdminService) {
  const limit = query.limit === undefined ? undefined : Number(query.limit);
  const page = await admin.auditTrail({ ...scopeOf(query), since: query.since, until: query.until, cursor: query.cursor, limit });
  return { events: page.events.map(encodeAuditEvent), next_cursor: page.nextCursor };
}

/**
 * Every matching event, one JSON object a line, streamed a page at a time (audit-export.ts).
 * Opening it takes an export slot and reads the first page, so its errors still get the Stytch envelope.
 */
async function auditExport(query: Query, request: FastifyRequest, reply: FastifyReply, exports: AuditExports): Promise<FastifyReply> {
  const exported = await exports.open({ ...scopeOf(query), since: query.since, until: query.until, cursor: query.cursor });
  // Fastify answers HEAD with this handler and drains a stream body unread: stop before reading on.
  if (request.method === 'HEAD') {
    exported.close();
    return reply.type('application/x-ndjson').send();
  }
  const stream = ndjsonStream(exported, encodeAuditEvent, {
    onFailure: (error) => request.log.error({ err: error }, 'audit export failed after it began; response cut off'),
    onStall: () => request.log.warn('audit export cut off: the client stopped reading'),
  });
  return reply.type('application/x-ndjson').send(stream);
}
