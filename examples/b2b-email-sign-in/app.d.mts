import type { Server } from 'node:http';
import type { B2BClient } from 'stytch';

export interface ExampleAppOptions {
  /** The official SDK's B2B client, pointed at Understudy. */
  readonly client: B2BClient;
  /**
   * Where browsers reach this app, without a trailing slash. Its redirect URLs, which the project must
   * allow: `${appUrl}/authenticate` (login, signup, discovery) and `${appUrl}/reset` (reset_password).
   */
  readonly appUrl: string;
  /** How long a member session lasts (default 60). */
  readonly sessionMinutes?: number;
  /**
   * Understudy's address and the project's credentials, for its own endpoints (the "Support access"
   * pages call them with fetch, as the signed-in member). Without it those pages say they are not set up.
   */
  readonly understudy?: { readonly url: string; readonly projectId: string; readonly secret: string };
  /**
   * For "Sign in with SSO": where browsers reach Understudy (its `/v1/public/sso/start`), without a
   * trailing slash, and the project's public token (Understudy prints it). Without it the SSO form
   * says it is not set up.
   */
  readonly sso?: { readonly url: string; readonly publicToken: string };
}

/** The example app's HTTP server, not yet listening. */
export function createExampleApp(options: ExampleAppOptions): Server;
