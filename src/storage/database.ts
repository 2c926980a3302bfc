/**
 * Row types of every table, shared by both dialects. Timestamps are RFC 3339 text (they sort as
 * text and read back identically on SQLite and PostgreSQL); booleans are 0/1 integers; JSON
 * documents are text. One query layer serves both databases that way.
 */
export interface Database {
  projects: ProjectRow;
  organizations: OrganizationRow;
  organization_domains: OrganizationDomainRow;
  members: MemberRow;
  audit_events: AuditEventRow;
}

export interface ProjectRow {
  project_id: string;
  secret_digest: string;
  created_at: string;
}

export interface OrganizationRow {
  organization_id: string;
  organization_name: string;
  organization_slug: string;
  organization_logo_url: string;
  organization_external_id: string | null;
  trusted_metadata: string;
  settings: string;
  created_at: string;
  updated_at: string;
}

/** Allowed and claimed email domains, one row each, so searches by domain use an index. */
export interface OrganizationDomainRow {
  organization_id: string;
  kind: 'allowed' | 'claimed';
  domain: string;
}

export interface MemberRow {
  member_id: string;
  organization_id: string;
  email_address: string;
  email_address_verified: number;
  status: string;
  name: string;
  external_id: string | null;
  is_breakglass: number;
  mfa_phone_number: string;
  mfa_phone_number_verified: number;
  mfa_enrolled: number;
  default_mfa_method: string;
  assigned_roles: string;
  trusted_metadata: string;
  untrusted_metadata: string;
  retired_email_addresses: string;
  member_password_id: string;
  totp_registration_id: string;
  is_locked: number;
  lock_created_at: string | null;
  lock_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuditEventRow {
  event_id: string;
  type: string;
  occurred_at: string;
  request_id: string;
  actor: string;
  organization_id: string | null;
  member_id: string | null;
  details: string;
}
