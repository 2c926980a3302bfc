/** Who is acting: the project's backend (secret key) or, later, an operator or a member session. */
export type Actor =
  | { readonly type: 'project'; readonly projectId: string }
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
