import type { ImpersonationPolicy } from './impersonation.js';

/** The project's own setting, from configuration: it overrides every organization's. */
export interface ProjectImpersonationPolicy {
  readonly enabled: boolean;
  readonly redirectUrl: string | null;
  /** The longest access grant, in hours (UNDERSTUDY_IMPERSONATION_MAX_GRANT_HOURS); MAX_GRANT_HOURS when omitted. */
  readonly maxGrantHours?: number | undefined;
}

export interface EffectivePolicy {
  readonly enabled: boolean;
  /** Why not, when not: the project's configuration or the organization's own setting. */
  readonly disabledBy: 'project' | 'organization' | null;
  readonly redirectUrl: string | null;
}

/** Allowed only when both the project and the organization allow it; the organization's URL wins. */
export function effectivePolicy(project: ProjectImpersonationPolicy, organization: ImpersonationPolicy | undefined): EffectivePolicy {
  const disabledBy = !project.enabled ? 'project' : organization?.enabled === false ? 'organization' : null;
  return { enabled: disabledBy === null, disabledBy, redirectUrl: organization?.redirectUrl ?? project.redirectUrl };
}

/** Stytch's B2B impersonation link: `stytch_token_type=multi_tenant_impersonation&token=…` on the login redirect URL. */
export function impersonationUrl(redirectUrl: string, token: string): string {
  const url = new URL(redirectUrl);
  // Appended to the query as written: re-serializing it through searchParams would rewrite the
  // customer's own parameters (`%20` -> `+`, `/` -> `%2F`, `flag` -> `flag=`).
  const added = `stytch_token_type=multi_tenant_impersonation&token=${encodeURIComponent(token)}`;
  url.search = url.search.length > 1 ? `${url.search.slice(1)}&${added}` : added;
  return url.toString();
}
