import { constantTimeEqual, digestSecret } from '../crypto/secret-digest.js';
import { sharedError } from '../domain/shared/errors.js';
import type { Project } from '../domain/projects/project.js';

/**
 * HTTP Basic project authentication (reference §D): `base64(project_id:secret)`. Both the id and
 * the digest of the secret are compared in constant time, and every failure looks the same.
 */
export class ProjectAuthenticator {
  readonly #project: Project;

  constructor(project: Project) {
    this.#project = project;
  }

  get projectId(): string {
    return this.#project.projectId;
  }

  /** Throws `unauthorized_credentials` unless the header carries this project's id and secret. */
  authenticate(authorization: string | undefined): void {
    const credentials = parseBasic(authorization);
    const idMatches = constantTimeEqual(credentials?.projectId ?? '', this.#project.projectId);
    const secretMatches = constantTimeEqual(digestSecret(credentials?.secret ?? ''), this.#project.secretDigest);
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
