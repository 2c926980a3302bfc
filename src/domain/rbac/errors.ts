import { DomainError, errorFactory, type ErrorKind } from '../common/domain-error.js';
import { describeProblems, type PolicyProblem } from './policy-problems.js';

/** RBAC error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours). */
export const RBAC_ERRORS = {
  session_authorization_error: { kind: 'permission_denied', message: 'The member session is not authorized for this action.' },
  session_authorization_tenancy_error: {
    kind: 'permission_denied',
    message: "The member session belongs to another organization than the one this call acts on.",
  },
  unauthorized_action: {
    kind: 'permission_denied',
    message: 'This endpoint does not accept member-session headers (X-Stytch-Member-Session, X-Stytch-Member-SessionJWT); call it with the project secret alone.',
  },
  invalid_rbac_policy: { kind: 'invalid_argument', message: 'The RBAC policy is not valid.' },
  invalid_stytch_prefixed_resource: { kind: 'invalid_argument', message: 'Custom resource ids may not start with "stytch".' },
  cannot_specify_wildcard_with_other_actions: { kind: 'invalid_argument', message: '"*" cannot be listed with other actions.' },
  rbac_role_in_use: { kind: 'precondition_failed', message: 'A role that is still assigned cannot be removed; remove its assignments first.' },
  rbac_resource_in_use: { kind: 'precondition_failed', message: "A resource that an organization's custom role uses cannot be removed." },
  rbac_policy_changed: { kind: 'precondition_failed', message: 'The RBAC policy changed since this edit started; load it again and reapply the edit.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type RbacErrorCode = keyof typeof RBAC_ERRORS;

export const rbacError = errorFactory(RBAC_ERRORS);

/** A policy refused for what it says: the first problem's code, every problem in the message and in `problems`. */
export class PolicyProblemsError extends DomainError<RbacErrorCode> {
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[]) {
    const first = problems[0];
    super(RBAC_ERRORS[first?.code ?? 'invalid_rbac_policy'].kind, first?.code ?? 'invalid_rbac_policy', describeProblems(problems));
    this.problems = problems;
  }
}
