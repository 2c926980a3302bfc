import type { ExtensionOperation, StytchOperation } from './operation.js';
import sessionsAuthenticate from './sessions/authenticate.js';
import sessionsGet from './sessions/get.js';
import sessionsGetJwks from './sessions/get-jwks.js';
import sessionsRevoke from './sessions/revoke.js';
// imports: organizations
// imports: organizations.members
// imports: rbac
// imports: impersonation
// imports: extensions

/**
 * The one table of what Understudy answers. Every Stytch operation of the contract that is not
 * listed here answers 501 not_implemented (register-operations.ts), and docs/compatibility.md's
 * matrix is rendered from this list. Adding an operation is adding its module and one line here.
 */
export const STYTCH_OPERATIONS: readonly StytchOperation[] = [
  // organizations
  // organizations.members
  // rbac
  // impersonation
  sessionsAuthenticate,
  sessionsGet,
  sessionsGetJwks,
  sessionsRevoke,
] as readonly StytchOperation[];

/** Our operations beside Stytch's (docs/impersonation.md, docs/configuration.md): not in the contract. */
export const EXTENSION_OPERATIONS: readonly ExtensionOperation[] = [
  // extensions: health
  // extensions: impersonation
] as readonly ExtensionOperation[];
