import { digestsMatch } from '../crypto/opaque-token.js';
import { secretDigestBytes } from '../crypto/secret-digest.js';
import { sharedError } from '../domain/common/errors.js';
import type { Project } from '../domain/projects/project.js';

/**
 * HTTP Basic project authentication, as Stytch's: `base64(project_id:secret)`. The id (public,
 * but compared without early exit all the same) and the digest of the secret are compared in
 * constant time, and every failure looks the same.
 */
export class ProjectAuthenticator {
  readonly #project: Project;
  /** The project id's bytes and the stored secret digest's, computed once: one hash per request. */
  readonly #projectIdBytes: Buffer;
  readonly #secretDigest: Buffer;

  constructor(project: Project) {
    this.#project = project;
    this.#projectIdBytes = Buffer.from(project.projectId, 'utf8');
    this.#secretDigest = Buffer.from(project.secretDigest, 'base64url');
  }

  get projectId(): string {
    return this.#project.projectId;
  }

  /** Throws `unauthorized_credentials` unless the header carries this project's id and secret. */
  authenticate(authorization: string | undefined): void {
    const credentials = parseBasic(authorization);
    // timingSafeEqual: the time never depends on where a value differs. The id is not secret, so
    // only its length may show; the secret is hashed first, so its length does not either.
    const idMatches = digestsMatch(Buffer.from(credentials?.projectId ?? '', 'utf8'), this.#projectIdBytes);
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
