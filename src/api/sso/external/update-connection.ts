import { encodeExternalConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.external.updateConnection: its display name and implicit role assignments. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_external_UpdateConnection',
  memberAuthorization: ({ params, body }, services) =>
    ssoCall(services, params.organization_id, 'update', {
      connectionId: params.connection_id,
      assignments: [...(body.external_connection_implicit_role_assignments ?? []), ...(body.external_group_implicit_role_assignments ?? [])],
    }),
  async handle({ params, body, context }, { ssoConnections }) {
    const view = await ssoConnections.updateExternal(context, params.organization_id, params.connection_id, {
      displayName: body.display_name,
      connectionImplicitRoleAssignments: body.external_connection_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id })),
      groupImplicitRoleAssignments: body.external_group_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id, group: entry.group })),
    });
    return { connection: encodeExternalConnection(view) };
  },
});
