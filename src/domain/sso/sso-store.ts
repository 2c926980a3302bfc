import type { ReadForUpdate } from '../common/read-for-update.js';
import type { SsoCertificate, SsoConnection } from './sso-connection.js';
import type { SsoRequest, SsoTestResult } from './sso-request.js';
import type { SsoToken } from './sso-token.js';

/**
 * Storage port of SSO: connections and their certificates, started requests, issued tokens, the
 * SAML assertion ids already accepted, and which IdP subject is which member. Single use
 * (requests, tokens, assertion ids) is decided by conditional writes, so of two concurrent uses
 * exactly one succeeds whatever the isolation level.
 */
export interface SsoStore {
  insertConnection(connection: SsoConnection, sealedSecrets: string | null): Promise<void>;
  /** The connection with this id, in any organization (callers check it is the one they mean). */
  findConnection(connectionId: string, options?: ReadForUpdate): Promise<SsoConnection | undefined>;
  /** The organization's connections, oldest first. */
  listConnections(organizationId: string): Promise<SsoConnection[]>;
  /** External connections (in any organization) that borrow `connectionId`. */
  listConnectionsBorrowing(connectionId: string): Promise<SsoConnection[]>;
  /**
   * Writes every field of the connection as given (its kind and organization never change). Only
   * under the row lock of findConnection({ forUpdate: true }) in the same transaction, so no
   * concurrent change is written over.
   */
  replaceConnection(connection: SsoConnection): Promise<void>;
  /** The connection's sealed secrets (sso-connection.ts, SsoConnectionSecrets), or null. */
  findSealedSecrets(connectionId: string): Promise<string | null>;
  /** Sets the sealed secrets column and nothing else. */
  setSealedSecrets(connectionId: string, sealedSecrets: string | null, at: string): Promise<void>;
  /** Deletes the connection with its certificates, requests, tokens and subjects; false when it was not there. */
  deleteConnection(connectionId: string): Promise<boolean>;
  /** Every connection of the organization and what hangs off them (organization deletion). */
  deleteConnectionsOfOrganization(organizationId: string): Promise<void>;

  insertCertificate(certificate: SsoCertificate): Promise<void>;
  /** The connection's certificates of every purpose, oldest first. */
  listCertificates(connectionId: string): Promise<SsoCertificate[]>;
  /** Certificates of all these connections, oldest first (one query for a list of connections). */
  listCertificatesOfConnections(connectionIds: readonly string[]): Promise<SsoCertificate[]>;
  /** Deletes the certificate if it is of this connection and purpose; false when there was none. */
  deleteCertificate(connectionId: string, certificateId: string, purpose: SsoCertificate['purpose']): Promise<boolean>;

  insertRequest(request: SsoRequest): Promise<void>;
  findRequestByLookupId(lookupId: string): Promise<SsoRequest | undefined>;
  findRequest(requestId: string): Promise<SsoRequest | undefined>;
  /** Spends the request if it is unspent and unexpired at `at`; false when another use won or it lapsed. */
  consumeRequest(requestId: string, at: string): Promise<boolean>;
  /** Records a `test` request's outcome (and nothing else). */
  setTestResult(requestId: string, result: SsoTestResult): Promise<void>;

  insertToken(token: SsoToken): Promise<void>;
  findTokenByLookupId(lookupId: string): Promise<SsoToken | undefined>;
  /** Spends the token if it is unspent and unexpired at `at`; false otherwise. */
  consumeToken(tokenId: string, at: string): Promise<boolean>;

  /**
   * Records that the connection accepted the SAML assertion with this ID, kept until `expiresAt`
   * (its NotOnOrAfter plus the allowed skew). False when it was accepted before: a replay.
   */
  rememberAssertion(connectionId: string, assertionId: string, expiresAt: string): Promise<boolean>;

  /** The member the connection's IdP subject belongs to, or undefined. */
  findSubjectMember(connectionId: string, externalId: string): Promise<string | undefined>;
  /** Links the subject to the member (replacing an earlier link of the same subject). */
  linkSubject(link: { connectionId: string; externalId: string; organizationId: string; memberId: string; registrationId: string }): Promise<void>;
  /** Forgets every subject of the member (member deletion). */
  unlinkMember(memberId: string): Promise<void>;

  /** Deletes requests, tokens and remembered assertion ids that lapsed before `before`; how many rows went. */
  sweepExpired(before: string): Promise<number>;
}
