/** The one project this server serves. Only a SHA-256 digest of its secret is ever stored. */
export interface Project {
  readonly projectId: string;
  readonly secretDigest: string;
  readonly createdAt: string;
}
