import type { UpdateExternalInput } from '../../../domain/sso/connections-service.js';
import { externalChange } from '../../../domain/sso/connections-trust.js';
import { encodeExternalConnection } from '../../../http/wire/sso.js';
import { type RequestBodyOf, stytchOperation } from '../../operation.js';
import { changeLimitsOf, ssoCall } from '../connection-requirements.js';

/** sso.external.updateConnection: its display name and implicit role assignments (the connection it borrows never changes). */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_external_UpdateConnection',
  // Decided on the very values the service is given (a connection-wide entry carries no group).
  memberAuthorization: ({ params, body, context }, services) =>
    ssoCall(services, params.organization_id, 'update', { context, connectionId: params.connection_id, change: externalChange(decode(body)) }),
  async handle({ params, body, context }, { ssoConnections }) {
    const view = await ssoConnections.updateExternal(context, params.organization_id, params.connection_id, decode(body), changeLimitsOf(context));
    return { connection: encodeExternalConnection(view) };
  },
});

function decode(body: RequestBodyOf<'api_sso_v1_sso_external_UpdateConnection'>): UpdateExternalInput {
  return {
    displayName: body.display_name,
    connectionImplicitRoleAssignments: body.external_connection_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id })),
    groupImplicitRoleAssignments: body.external_group_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id, group: entry.group })),
  };
}
