import { encodeExternalConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { lendingCall } from '../connection-requirements.js';

/**
 * sso.external.createConnection: borrows an active connection of another organization of the
 * project. Member-session headers are refused whatever the roles (lendingCall): which organizations
 * trust each other's IdPs is the project's backend's decision.
 */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_external_CreateConnection',
  memberAuthorization: () => lendingCall(),
  async handle({ params, body, context }, { ssoConnections }) {
    const view = await ssoConnections.createExternal(context, params.organization_id, {
      externalOrganizationId: body.external_organization_id,
      externalConnectionId: body.external_connection_id,
      displayName: body.display_name,
      connectionImplicitRoleAssignments: body.connection_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id })),
      groupImplicitRoleAssignments: body.group_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id, group: entry.group })),
    });
    return { connection: encodeExternalConnection(view) };
  },
});
