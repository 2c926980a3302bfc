import type { Policy } from './policy.js';
import { policyDocument } from './policy-rules.js';

/** What one policy change did, by id, in wire form: the audit event's details and the console's history. */
export interface PolicyDiff {
  readonly resources: ItemDiff;
  readonly roles: ItemDiff;
  readonly scopes: ItemDiff;
}

export interface ItemDiff {
  readonly added: readonly unknown[];
  readonly removed: readonly unknown[];
  /** Each changed item before and after. */
  readonly changed: readonly { readonly before: unknown; readonly after: unknown }[];
}

export function diffPolicies(before: Policy, after: Policy): PolicyDiff {
  const from = policyDocument(before);
  const to = policyDocument(after);
  return {
    resources: diffItems(from.resources, to.resources, 'resource_id'),
    roles: diffItems(from.roles, to.roles, 'role_id'),
    scopes: diffItems(from.scopes, to.scopes, 'scope'),
  };
}

export function isEmptyDiff(diff: PolicyDiff): boolean {
  return [diff.resources, diff.roles, diff.scopes].every((items) => items.added.length === 0 && items.removed.length === 0 && items.changed.length === 0);
}

/** Ids present before and gone after. */
export function removedIds(diff: ItemDiff, key: string): string[] {
  return diff.removed.map((item) => String((item as Record<string, unknown>)[key]));
}

/** Actions a resource or role had before and no longer has (per id), for the in-use checks. */
export function removedActions(before: readonly string[], after: readonly string[]): string[] {
  return before.filter((action) => !after.includes(action));
}

function diffItems(before: readonly unknown[], after: readonly unknown[], key: string): ItemDiff {
  const id = (item: unknown) => String((item as Record<string, unknown>)[key]);
  const beforeById = new Map(before.map((item) => [id(item), item]));
  const afterById = new Map(after.map((item) => [id(item), item]));
  return {
    added: after.filter((item) => !beforeById.has(id(item))),
    removed: before.filter((item) => !afterById.has(id(item))),
    changed: after
      .filter((item) => beforeById.has(id(item)) && canonical(beforeById.get(id(item))) !== canonical(item))
      .map((item) => ({ before: beforeById.get(id(item)), after: item })),
  };
}

/** JSON with arrays of text sorted, so reordering actions is not reported as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (Array.isArray(item) && item.every((entry) => typeof entry === 'string')) return [...(item as string[])].sort();
    if (Array.isArray(item)) return [...item].sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right)));
    return item;
  });
}
