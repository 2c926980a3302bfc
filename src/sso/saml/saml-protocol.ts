// PLACEHOLDER (foundation): the SAML helper replaces this file's body; the constructor's dependencies are the contract.
import type { Clock } from '../../platform/clock.js';
import type { PublicOrigin } from '../../platform/public-origin.js';
import type { StorePorts } from '../../domain/ports.js';
import type { ProtocolConnection, SsoProtocol } from '../../domain/sso/sso-flows.js';

export class SamlProtocol implements SsoProtocol {
  constructor(readonly dependencies: { store: Pick<StorePorts, 'sso'>; origin: PublicOrigin; masterKey: Buffer; clock: Clock }) {}

  async begin(_connection: ProtocolConnection, _request: { readonly state: string; readonly nonce: string }): Promise<{ location: string; protocolRequestId: string }> {
    throw new Error('SAML sign-in is not built yet');
  }
}
