import type { Kysely, Selectable } from 'kysely';
import type { ReadForUpdate } from '../../domain/common/read-for-update.js';
import type { SsoCertificate, SsoCertificatePurpose, SsoConnection, SsoConnectionStatus } from '../../domain/sso/sso-connection.js';
import type { SsoRequest, SsoProof, SsoTestResult } from '../../domain/sso/sso-request.js';
import type { SsoStore } from '../../domain/sso/sso-store.js';
import type { SsoToken } from '../../domain/sso/sso-token.js';
import type { Database, SsoCertificateRow, SsoConnectionRow, SsoRequestRow, SsoTokenRow } from '../database.js';
import type { Dialect } from '../store.js';
import { fromJson, toJson } from './json-column.js';

/** The columns every kind shares; the rest of a connection is its `settings` document. */
const BASE_FIELDS = ['connectionId', 'organizationId', 'kind', 'status', 'displayName', 'identityProvider', 'createdAt', 'updatedAt'] as const;

/**
 * SSO connections, certificates, requests, tokens, remembered assertions and subjects. Requests and
 * tokens are spent by conditional updates (unspent and unexpired), assertion ids remembered by an
 * insert that a duplicate key turns into nothing: exactly one of two concurrent uses wins.
 */
export class SsoSqlStore implements SsoStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async insertConnection(connection: SsoConnection, sealedSecrets: string | null): Promise<void> {
    await this.#db
      .insertInto('sso_connections')
      .values({ ...connectionRow(connection), sealed_secrets: sealedSecrets })
      .execute();
  }

  async findConnection(connectionId: string, options: ReadForUpdate = {}): Promise<SsoConnection | undefined> {
    const select = this.#db.selectFrom('sso_connections').selectAll().where('connection_id', '=', connectionId);
    const row = await (this.#dialect === 'postgres' && options.forUpdate === true ? select.forUpdate() : select).executeTakeFirst();
    return row === undefined ? undefined : connectionFromRow(row);
  }

  async listConnections(organizationId: string): Promise<SsoConnection[]> {
    const rows = await this.#db
      .selectFrom('sso_connections')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at')
      .orderBy('connection_id')
      .execute();
    return rows.map(connectionFromRow);
  }

  async listConnectionsBorrowing(connectionId: string): Promise<SsoConnection[]> {
    const rows = await this.#db.selectFrom('sso_connections').selectAll().where('kind', '=', 'external').orderBy('created_at').execute();
    return rows.map(connectionFromRow).filter((connection) => connection.kind === 'external' && connection.externalConnectionId === connectionId);
  }

  async replaceConnection(connection: SsoConnection): Promise<void> {
    const { connection_id, organization_id, kind, created_at, ...changed } = connectionRow(connection);
    await this.#db.updateTable('sso_connections').set(changed).where('connection_id', '=', connection_id).where('organization_id', '=', organization_id).execute();
  }

  async findSealedSecrets(connectionId: string): Promise<string | null> {
    const row = await this.#db.selectFrom('sso_connections').select('sealed_secrets').where('connection_id', '=', connectionId).executeTakeFirst();
    return row?.sealed_secrets ?? null;
  }

  async setSealedSecrets(connectionId: string, sealedSecrets: string | null, at: string): Promise<void> {
    await this.#db.updateTable('sso_connections').set({ sealed_secrets: sealedSecrets, updated_at: at }).where('connection_id', '=', connectionId).execute();
  }

  async deleteConnection(connectionId: string): Promise<boolean> {
    await this.#deleteDependents('connection_id', connectionId);
    const result = await this.#db.deleteFrom('sso_connections').where('connection_id', '=', connectionId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteConnectionsOfOrganization(organizationId: string): Promise<void> {
    await this.#deleteDependents('organization_id', organizationId);
    await this.#db.deleteFrom('sso_connections').where('organization_id', '=', organizationId).execute();
  }

  async #deleteDependents(column: 'connection_id' | 'organization_id', value: string): Promise<void> {
    await this.#db.deleteFrom('sso_certificates').where(column, '=', value).execute();
    await this.#db.deleteFrom('sso_requests').where(column, '=', value).execute();
    await this.#db.deleteFrom('sso_tokens').where(column, '=', value).execute();
    await this.#db.deleteFrom('sso_subjects').where(column, '=', value).execute();
    if (column === 'connection_id') {
      await this.#db.deleteFrom('sso_assertions').where('connection_id', '=', value).execute();
    } else {
      await this.#db
        .deleteFrom('sso_assertions')
        .where('connection_id', 'in', (eb) => eb.selectFrom('sso_connections').select('connection_id').where('organization_id', '=', value))
        .execute();
    }
  }

  async insertCertificate(certificate: SsoCertificate): Promise<void> {
    await this.#db
      .insertInto('sso_certificates')
      .values({
        certificate_id: certificate.certificateId,
        connection_id: certificate.connectionId,
        organization_id: certificate.organizationId,
        purpose: certificate.purpose,
        certificate: certificate.certificate,
        sealed_private_key: certificate.sealedPrivateKey,
        issuer: certificate.issuer,
        created_at: certificate.createdAt,
        expires_at: certificate.expiresAt,
      })
      .execute();
  }

  async listCertificates(connectionId: string): Promise<SsoCertificate[]> {
    return this.listCertificatesOfConnections([connectionId]);
  }

  async listCertificatesOfConnections(connectionIds: readonly string[]): Promise<SsoCertificate[]> {
    if (connectionIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('sso_certificates')
      .selectAll()
      .where('connection_id', 'in', [...connectionIds])
      .orderBy('created_at')
      .orderBy('certificate_id')
      .execute();
    return rows.map(certificateFromRow);
  }

  async deleteCertificate(connectionId: string, certificateId: string, purpose: SsoCertificatePurpose): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('sso_certificates')
      .where('certificate_id', '=', certificateId)
      .where('connection_id', '=', connectionId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async insertRequest(request: SsoRequest): Promise<void> {
    await this.#db
      .insertInto('sso_requests')
      .values({
        request_id: request.requestId,
        lookup_id: request.lookupId,
        digest: request.digest,
        connection_id: request.connectionId,
        sign_in_connection_id: request.signInConnectionId,
        organization_id: request.organizationId,
        kind: request.kind,
        purpose: request.purpose,
        protocol_request_id: request.protocolRequestId,
        nonce: request.nonce,
        login_redirect_url: request.loginRedirectUrl,
        signup_redirect_url: request.signupRedirectUrl,
        pkce_code_challenge: request.pkceCodeChallenge,
        operator_id: request.operatorId,
        created_at: request.createdAt,
        expires_at: request.expiresAt,
        consumed_at: request.consumedAt,
        test_result: request.testResult === null ? null : toJson(request.testResult),
      })
      .execute();
  }

  async findRequestByLookupId(lookupId: string): Promise<SsoRequest | undefined> {
    const row = await this.#db.selectFrom('sso_requests').selectAll().where('lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : requestFromRow(row);
  }

  async findRequest(requestId: string): Promise<SsoRequest | undefined> {
    const row = await this.#db.selectFrom('sso_requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return row === undefined ? undefined : requestFromRow(row);
  }

  async consumeRequest(requestId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('sso_requests')
      .set({ consumed_at: at })
      .where('request_id', '=', requestId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setTestResult(requestId: string, result: SsoTestResult): Promise<void> {
    await this.#db.updateTable('sso_requests').set({ test_result: toJson(result) }).where('request_id', '=', requestId).execute();
  }

  async insertToken(token: SsoToken): Promise<void> {
    await this.#db
      .insertInto('sso_tokens')
      .values({
        token_id: token.tokenId,
        lookup_id: token.lookupId,
        digest: token.digest,
        organization_id: token.organizationId,
        connection_id: token.connectionId,
        proof: toJson(token.proof),
        pkce_code_challenge: token.pkceCodeChallenge,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        consumed_at: token.consumedAt,
      })
      .execute();
  }

  async findTokenByLookupId(lookupId: string): Promise<SsoToken | undefined> {
    const row = await this.#db.selectFrom('sso_tokens').selectAll().where('lookup_id', '=', lookupId).executeTakeFirst();
    return row === undefined ? undefined : tokenFromRow(row);
  }

  async consumeToken(tokenId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('sso_tokens')
      .set({ consumed_at: at })
      .where('token_id', '=', tokenId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async rememberAssertion(connectionId: string, assertionId: string, expiresAt: string): Promise<boolean> {
    const result = await this.#db
      .insertInto('sso_assertions')
      .values({ connection_id: connectionId, assertion_id: assertionId, expires_at: expiresAt })
      .onConflict((conflict) => conflict.columns(['connection_id', 'assertion_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async findSubjectMember(connectionId: string, externalId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('sso_subjects')
      .select('member_id')
      .where('connection_id', '=', connectionId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row?.member_id;
  }

  async linkSubject(link: { connectionId: string; externalId: string; organizationId: string; memberId: string; registrationId: string }): Promise<void> {
    await this.#db
      .insertInto('sso_subjects')
      .values({
        connection_id: link.connectionId,
        external_id: link.externalId,
        organization_id: link.organizationId,
        member_id: link.memberId,
        registration_id: link.registrationId,
      })
      .onConflict((conflict) =>
        conflict.columns(['connection_id', 'external_id']).doUpdateSet({ organization_id: link.organizationId, member_id: link.memberId, registration_id: link.registrationId }),
      )
      .execute();
  }

  async unlinkMember(memberId: string): Promise<void> {
    await this.#db.deleteFrom('sso_subjects').where('member_id', '=', memberId).execute();
  }

  async sweepExpired(before: string): Promise<number> {
    let removed = 0;
    for (const table of ['sso_requests', 'sso_tokens', 'sso_assertions'] as const) {
      const result = await this.#db.deleteFrom(table).where('expires_at', '<', before).executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    return removed;
  }
}

function connectionRow(connection: SsoConnection): Omit<Selectable<SsoConnectionRow>, 'sealed_secrets'> {
  const settings: Record<string, unknown> = { ...connection };
  for (const field of BASE_FIELDS) delete settings[field];
  return {
    connection_id: connection.connectionId,
    organization_id: connection.organizationId,
    kind: connection.kind,
    status: connection.status,
    display_name: connection.displayName,
    identity_provider: connection.identityProvider,
    settings: toJson(settings),
    created_at: connection.createdAt,
    updated_at: connection.updatedAt,
  };
}

function connectionFromRow(row: Selectable<SsoConnectionRow>): SsoConnection {
  return {
    ...fromJson<Record<string, unknown>>(row.settings),
    connectionId: row.connection_id,
    organizationId: row.organization_id,
    kind: row.kind,
    status: row.status as SsoConnectionStatus,
    displayName: row.display_name,
    identityProvider: row.identity_provider,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  } as SsoConnection;
}

function certificateFromRow(row: Selectable<SsoCertificateRow>): SsoCertificate {
  return {
    certificateId: row.certificate_id,
    connectionId: row.connection_id,
    organizationId: row.organization_id,
    purpose: row.purpose as SsoCertificatePurpose,
    certificate: row.certificate,
    sealedPrivateKey: row.sealed_private_key,
    issuer: row.issuer,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function requestFromRow(row: Selectable<SsoRequestRow>): SsoRequest {
  return {
    requestId: row.request_id,
    lookupId: row.lookup_id,
    digest: row.digest,
    connectionId: row.connection_id,
    signInConnectionId: row.sign_in_connection_id,
    organizationId: row.organization_id,
    kind: row.kind as SsoRequest['kind'],
    purpose: row.purpose as SsoRequest['purpose'],
    protocolRequestId: row.protocol_request_id,
    nonce: row.nonce,
    loginRedirectUrl: row.login_redirect_url,
    signupRedirectUrl: row.signup_redirect_url,
    pkceCodeChallenge: row.pkce_code_challenge,
    operatorId: row.operator_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
    testResult: row.test_result === null ? null : fromJson<SsoTestResult>(row.test_result),
  };
}

function tokenFromRow(row: Selectable<SsoTokenRow>): SsoToken {
  return {
    tokenId: row.token_id,
    lookupId: row.lookup_id,
    digest: row.digest,
    organizationId: row.organization_id,
    connectionId: row.connection_id,
    proof: fromJson<SsoProof>(row.proof),
    pkceCodeChallenge: row.pkce_code_challenge,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}
