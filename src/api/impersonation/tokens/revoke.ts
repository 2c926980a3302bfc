import { encodeImpersonationToken } from '../../../http/wire/impersonation.js';
import { objectSchema, str } from '../../json-schema.js';
import { extensionOperation } from '../../operation.js';
import { scopeOf, scopeProperties, type ScopeWire } from '../scope.js';

interface Body extends ScopeWire {
  readonly token_id?: string;
}

const bodySchema = objectSchema({ token_id: str, ...scopeProperties } satisfies Record<keyof Body, unknown>);

/**
 * impersonation.tokens.revoke (our extension): unredeemed tokens revoked before anyone redeems
 * them, one by token_id or all of an impersonator's, a member's or an organization's.
 */
export default extensionOperation<Body>({
  name: 'impersonation.tokens.revoke',
  method: 'POST',
  url: '/v1/b2b/impersonation/tokens/revoke',
  schema: { body: bodySchema },
  async handle({ body, context }, { impersonationAdmin }) {
    const revoked = await impersonationAdmin.revokeTokens(context, { ...scopeOf(body), tokenId: body.token_id });
    return { revoked_tokens: revoked.map(encodeImpersonationToken) };
  },
});
