import { encodeAccessGrant } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { supportAccessCall } from './support-access-call.js';

interface Body {
  readonly organization_id: string;
  /** Member ids, external ids or email addresses; absent for every member. Checked by the service. */
  readonly member_ids?: unknown;
  readonly duration_minutes?: unknown;
  readonly reason?: unknown;
}

// The service checks member_ids, duration_minutes and reason itself, so each mistake is `invalid_access_grant`.
const bodySchema = objectSchema({ organization_id: str, member_ids: {}, duration_minutes: {}, reason: {} } satisfies Record<keyof Body, unknown>, ['organization_id']);

/**
 * impersonation.accessGrants.create (our extension): with member-session headers of a member allowed
 * `understudy.support-access:grant` in the organization, the grant opens at once; with the project's
 * credentials alone (the vendor's support), it is requested, for a member to approve.
 */
export default extensionOperation<Body>({
  name: 'impersonation.accessGrants.create',
  method: 'POST',
  url: '/v1/b2b/impersonation/access_grants',
  schema: { body: bodySchema },
  memberAuthorization: ({ body, context }, services) => supportAccessCall(services, context, body.organization_id, 'grant', { consent: true }),
  async handle({ body, context }, { accessGrants }) {
    const grant = await accessGrants.create(context, {
      // A member session acts on its own organization, the one memberAuthorization checked the reference named.
      organizationReference: context.actor.type === 'member_session' ? context.actor.organizationId : body.organization_id,
      memberReferences: body.member_ids,
      durationMinutes: body.duration_minutes,
      reason: body.reason,
    });
    return { access_grant: encodeAccessGrant(grant) };
  },
});
