/** Who is acting: the project's backend (secret key), the CLI, an operator, the server itself, or a member session. */
export type Actor =
  | { readonly type: 'project'; readonly projectId: string }
  /**
   * The project's backend calling an admin endpoint on behalf of a member (member-session headers):
   * the call runs with that member's roles. When the session is an impersonation, the impersonator
   * is named too, and every audit event of the call carries it.
   */
  | {
      readonly type: 'member_session';
      readonly projectId: string;
      readonly organizationId: string;
      readonly memberId: string;
      readonly memberSessionId: string;
      readonly impersonator?: { readonly id: string; readonly emailAddress: string } | undefined;
    }
  | { readonly type: 'cli' }
  | { readonly type: 'operator'; readonly operatorId: string; readonly emailAddress: string }
  | { readonly type: 'system' };

/** What every state-changing service call receives from the edge (style rules 18 and 19). */
export interface OperationContext {
  readonly requestId: string;
  readonly actor: Actor;
  /** The HTTP client behind the call, recorded on sessions it starts and in audit events. */
  readonly client?: { readonly ipAddress: string; readonly userAgent: string };
}
