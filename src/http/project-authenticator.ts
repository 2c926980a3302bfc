import { digestsMatch } from '../crypto/opaque-token.js';
import { secretDigestBytes } from '../crypto/secret-digest.js';
import { sharedError } from '../domain/shared/errors.js';
import type { Project } from '../domain/projects/project.js';

/**
 * HTTP Basic project authentication (reference §D): `base64(project_id:secret)`. Both the id and
 * the digest of the secret are compared in constant time, and every failure looks the same.
 */
export class ProjectAuthenticator {
  readonly #project: Project;
  /** SHA-256 of the project id and the stored secret digest as bytes, computed once: two hashes per request, not five. */
  readonly #projectIdDigest: Buffer;
  readonly #secretDigest: Buffer;

  constructor(project: Project) {
    this.#project = project;
    this.#projectIdDigest = secretDigestBytes(project.projectId);
    this.#secretDigest = Buffer.from(project.secretDigest, 'base64url');
  }

  get projectId(): string {
    return this.#project.projectId;
  }

  /** Throws `unauthorized_credentials` unless the header carries this project's id and secret. */
  authenticate(authorization: string | undefined): void {
    const credentials = parseBasic(authorization);
    // Fixed-length digests compared with timingSafeEqual: the time never depends on where a value differs.
    const idMatches = digestsMatch(secretDigestBytes(credentials?.projectId ?? ''), this.#projectIdDigest);
    const secretMatches = digestsMatch(secretDigestBytes(credentials?.secret ?? ''), this.#secretDigest);
    if (credentials === undefined || !idMatches || !secretMatches) throw sharedError('unauthorized_credentials');
  }
}

function parseBasic(authorization: string | undefined): { projectId: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { projectId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
