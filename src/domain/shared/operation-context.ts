/** Who is acting: the project's backend (secret key) or, later, an operator or a member session. */
export type Actor =
  | { readonly type: 'project'; readonly projectId: string }
  | { readonly type: 'cli' }
  | { readonly type: 'system' };

/** What every state-changing service call receives from the edge (style rules 18 and 19). */
export interface OperationContext {
  readonly requestId: string;
  readonly actor: Actor;
}
