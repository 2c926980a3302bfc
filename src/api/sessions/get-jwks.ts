import { sharedError } from '../../domain/common/errors.js';
import { stytchOperation } from '../operation.js';

/**
 * sessions.getJWKS. Public: jose fetches it without the Authorization header, and it must answer
 * exactly 200. Only public key members leave the server.
 */
export default stytchOperation({
  operationId: 'api_b2b_session_v1_GetJWKS',
  config: { access: 'public' },
  async handle({ params }, { projectId, keystore }) {
    if (params.project_id !== projectId) throw sharedError('route_not_found', 'No JWKS is published for this project id.');
    const keys = (await keystore.publicJwks()).map((jwk) => ({
      kty: jwk.kty ?? 'RSA',
      use: 'sig',
      key_ops: ['verify'],
      alg: 'RS256',
      // Every published key is an RSA public key with an id (signing-keystore.ts), so these are always set.
      kid: jwk.kid ?? '',
      n: jwk.n ?? '',
      e: jwk.e ?? '',
      // No X.509 certificate is issued for these keys; the members the contract requires are present but empty.
      x5c: [] as string[],
      x5tS256: '',
    }));
    return { keys };
  },
});
