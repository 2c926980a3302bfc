import type { FastifyRequest } from 'fastify';
import { isDomainError, type DomainError } from '../../domain/common/domain-error.js';
import { sharedError } from '../../domain/common/errors.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';
import { encodeMintedToken } from '../../http/wire/impersonation.js';
import { objectSchema, str } from '../json-schema.js';
import { extensionOperation } from '../operation.js';
import { asCaller, callerSession, type CallerSession } from './caller-session.js';

/** The body the schema describes (docs/impersonation.md). */
interface MintBody {
  readonly organization_id: string;
  readonly member_id?: string;
  readonly email_address?: string;
  readonly impersonator_id?: string;
  readonly impersonator_email_address?: string;
  readonly reason?: string;
  readonly expiration_minutes?: number;
  /** Restricted impersonation: "read_only" or a list of "resource:action" (checked by the service, so a refusal is audited). */
  readonly permissions?: unknown;
}

/**
 * Only types and outer bounds are checked here, and a body that fails them is still refused by the
 * service (attachValidation), so every refused mint is audited; lengths, formats and ranges are the
 * service's rules.
 */
const mintBodySchema = objectSchema(
  {
    organization_id: str,
    member_id: str,
    email_address: str,
    impersonator_id: str,
    impersonator_email_address: str,
    reason: { type: 'string', maxLength: 8192 },
    // A number, not only an integer: 2.5 is refused as invalid_expiration by the service, audited.
    expiration_minutes: { type: 'number' },
    permissions: { type: ['string', 'array'], maxItems: 1000 },
  } satisfies Record<keyof MintBody, unknown>,
  ['organization_id'],
);

/** A body the schema refused still arrives, so each field is read for what it is, not for what MintBody says. */
type MintFields = { readonly [K in keyof MintBody]?: unknown };

/**
 * impersonation.mint (our extension, POST /v1/b2b/impersonation): a one-time impersonation token
 * for a member. Member-session headers name the caller's own session: a member's makes the mint a
 * delegated one by that member (judged by the service), an impersonated session's is refused (no chains).
 */
export default extensionOperation<unknown>({
  name: 'impersonation.mint',
  method: 'POST',
  url: '/v1/b2b/impersonation',
  schema: { body: mintBodySchema },
  attachValidation: true,
  config: { handlesMemberSessionHeaders: true, rateLimitPerProject: 'mints' },
  async handle({ body, context, request }, { impersonation, sessions }) {
    const fields = fieldsOf(body);
    const failed = request.validationError?.validation;
    // Read whether or not the body is well formed: a member-session caller's refusal, a malformed body's
    // included, is theirs, filed under their own organization (never under one the body names).
    const caller = await mintCaller(request, sessions);
    // A member mints as themselves (delegated), and an impersonated session is refused as itself: the
    // session is the actor of the record (with its impersonator, for an impersonation).
    const minted = await impersonation.mint(caller.session === undefined ? context : asCaller(context, caller.session), {
      organizationReference: text(fields.organization_id) ?? '',
      memberReference: text(fields.member_id) ?? text(fields.email_address) ?? '',
      impersonatorId: text(fields.impersonator_id) ?? '',
      impersonatorEmailAddress: text(fields.impersonator_email_address) ?? '',
      reason: text(fields.reason),
      expirationMinutes: typeof fields.expiration_minutes === 'number' ? fields.expiration_minutes : undefined,
      permissions: fields.permissions,
      callerSession: caller.session,
      callerSessionRefusal: caller.refusal,
      malformed: failed === undefined ? undefined : sharedError('bad_request', malformedMintMessage(failed)),
    });
    return encodeMintedToken(minted);
  },
});

function fieldsOf(body: unknown): MintFields {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The session named by member-session headers on a mint call, or why they name none (an unknown or
 * ended session, a bad JWT): the mint refuses that, audited, like every other refusal.
 */
async function mintCaller(request: FastifyRequest, sessions: SessionsService): Promise<{ session?: CallerSession | undefined; refusal?: DomainError }> {
  try {
    return { session: await callerSession(request, sessions) };
  } catch (error) {
    if (isDomainError(error)) return { refusal: error };
    throw error;
  }
}

/** What the edge says of a mint body its schema refused, in the words it uses for every other route. */
function malformedMintMessage(validation: readonly { instancePath?: string; message?: string; params?: unknown }[]): string {
  const first = validation[0];
  const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
  const missing = missingPropertyOf(first?.params);
  const field = missing === undefined ? where : [where, missing].filter((part) => part !== '').join('.');
  return `Invalid body: ${missing ? `${field} is required.` : `${field || 'body'} ${first?.message ?? 'is invalid'}.`}`;
}

/** Ajv names a missing required field in `params.missingProperty`. */
function missingPropertyOf(params: unknown): string | undefined {
  if (params === null || typeof params !== 'object' || !('missingProperty' in params)) return undefined;
  return typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
}
