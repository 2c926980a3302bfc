/**
 * The project's public token (`public-token-test-<uuid>`), which browsers send to the public
 * endpoints Stytch's frontend SDKs call (`/v1/public/sso/start`). It is not a secret: it is in every
 * page that starts a sign-in. Understudy derives it from the project id (the same uuid, Stytch's
 * prefix), so it needs no storage and never changes.
 */
export function publicTokenOf(projectId: string): string {
  const match = /^project-(test|live)-(.+)$/.exec(projectId);
  return match === null ? `public-token-test-${projectId}` : `public-token-${match[1]}-${match[2]}`;
}
