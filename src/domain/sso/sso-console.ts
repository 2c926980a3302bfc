import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { StorePorts } from '../ports.js';
import type { SsoCertificate, SsoConnection } from './sso-connection.js';
import type { SsoRequest } from './sso-request.js';

/** A certificate as the console shows it: never its (sealed) private key. */
export type ConsoleCertificate = Omit<SsoCertificate, 'sealedPrivateKey'>;

export interface ConsoleConnection {
  readonly connection: SsoConnection;
  /** Its certificates of every purpose, oldest first (SAML; none for the other kinds). */
  readonly certificates: readonly ConsoleCertificate[];
  /** An external connection's source (another organization's connection); undefined when it is gone or not external. */
  readonly source?: SsoConnection | undefined;
  /** External connections of other organizations that borrow this one. */
  readonly borrowedBy: readonly SsoConnection[];
}

/**
 * What the operator console reads of an organization's SSO: its connections with their
 * certificates, and the outcome of a "test this connection" request. Reads only; the console's
 * one SSO action, a test, goes through SsoFlows.startTest.
 */
export class SsoConsoleView {
  readonly #store: Pick<StorePorts, 'sso'>;
  readonly #clock: Clock;

  constructor(dependencies: { store: Pick<StorePorts, 'sso'>; clock: Clock }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
  }

  /** The organization's connections, oldest first, and the time their certificates' expiry is judged at. */
  async connections(organizationId: string): Promise<{ now: string; connections: ConsoleConnection[] }> {
    const connections = await this.#store.sso.listConnections(organizationId);
    const certificates = connections.length === 0 ? [] : await this.#store.sso.listCertificatesOfConnections(connections.map((connection) => connection.connectionId));
    const listed = await Promise.all(
      connections.map(async (connection): Promise<ConsoleConnection> => ({
        connection,
        certificates: certificates.filter((certificate) => certificate.connectionId === connection.connectionId).map(({ sealedPrivateKey: _sealed, ...shown }) => shown),
        source: connection.kind === 'external' ? await this.#store.sso.findConnection(connection.externalConnectionId) : undefined,
        borrowedBy: connection.kind === 'external' ? [] : await this.#store.sso.listConnectionsBorrowing(connection.connectionId),
      })),
    );
    return { now: toTimestamp(this.#clock.now()), connections: listed };
  }

  /**
   * A console test request, if it is one of this organization's connection and the operator's own
   * (what the IdP asserted about whoever signed in is shown only to who started the test); undefined
   * otherwise, so the page does not tell a request of someone else from none.
   */
  async testRequest(input: { organizationId: string; connectionId: string; requestId: string; operatorId: string }): Promise<{ now: string; request: SsoRequest; connection: SsoConnection } | undefined> {
    const request = await this.#store.sso.findRequest(input.requestId);
    if (request === undefined || request.purpose !== 'test') return undefined;
    if (request.organizationId !== input.organizationId || request.signInConnectionId !== input.connectionId || request.operatorId !== input.operatorId) return undefined;
    const connection = await this.#store.sso.findConnection(request.signInConnectionId);
    if (connection === undefined || connection.organizationId !== input.organizationId) return undefined;
    return { now: toTimestamp(this.#clock.now()), request, connection };
  }
}
