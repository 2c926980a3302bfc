import { sharedError } from './errors.js';

/**
 * Stytch's search query: `{operator: "AND" | "OR", operands: [{filter_name, filter_value}]}`.
 * Each capability declares the filters it knows and the type of their values; anything else is a 400.
 */
export type SearchOperator = 'AND' | 'OR';
export type FilterValueType = 'string' | 'string[]' | 'boolean';

export type SearchFilter =
  | { readonly name: string; readonly type: 'string'; readonly value: string }
  | { readonly name: string; readonly type: 'string[]'; readonly value: readonly string[] }
  | { readonly name: string; readonly type: 'boolean'; readonly value: boolean };

export interface SearchQuery {
  readonly operator: SearchOperator;
  readonly filters: readonly SearchFilter[];
}

export interface RawSearchQuery {
  readonly operator?: unknown;
  readonly operands?: unknown;
}

const MAX_FILTER_VALUES = 1000;
/**
 * Values of all operands together. Each value becomes one bound parameter of the search's SQL,
 * beside up to 1000 `organization_ids`; SQLite allows 32,766 per statement and PostgreSQL 65,535,
 * which 100 operands of 1000 values each would exceed. One full list still fits.
 */
export const MAX_QUERY_VALUES = 1000;

/** Which search the query is for: Stytch names each search's errors after it. */
export type SearchKind = 'organization_search' | 'member_search';

export function parseSearchQuery(raw: RawSearchQuery | undefined, known: Readonly<Record<string, FilterValueType>>, kind: SearchKind): SearchQuery {
  if (raw === undefined || raw === null) return { operator: 'AND', filters: [] };
  if (raw.operator !== 'AND' && raw.operator !== 'OR') {
    throw sharedError('invalid_search_query', 'query.operator must be AND or OR.');
  }
  const operands = raw.operands ?? [];
  if (!Array.isArray(operands)) throw sharedError('invalid_search_query', 'query.operands must be an array.');
  const filters = operands.map((operand: unknown) => parseOperand(operand, known, kind));
  const total = filters.reduce((sum, filter) => sum + (filter.type === 'string[]' ? filter.value.length : 1), 0);
  if (total > MAX_QUERY_VALUES) {
    throw sharedError('invalid_search_query', `query.operands hold ${total} filter values in all; at most ${MAX_QUERY_VALUES} are allowed.`);
  }
  return { operator: raw.operator, filters };
}

/** The query with `transform` applied to every value of the named string and string-list filters. */
export function mapFilterValues(query: SearchQuery, names: readonly string[], transform: (value: string) => string): SearchQuery {
  const filters = query.filters.map((filter): SearchFilter => {
    if (!names.includes(filter.name)) return filter;
    if (filter.type === 'string') return { ...filter, value: transform(filter.value) };
    if (filter.type === 'string[]') return { ...filter, value: filter.value.map(transform) };
    return filter;
  });
  return { operator: query.operator, filters };
}

function parseOperand(operand: unknown, known: Readonly<Record<string, FilterValueType>>, kind: SearchKind): SearchFilter {
  if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) {
    throw sharedError('invalid_search_query', 'Each operand must be an object with filter_name and filter_value.');
  }
  const { filter_name: name, filter_value: value } = operand as { filter_name?: unknown; filter_value?: unknown };
  if (name === undefined || name === null) throw sharedError(`${kind}_missing_filter_name`);
  if (typeof name !== 'string') throw sharedError(`${kind}_filter_name_must_be_string`);
  if (!Object.hasOwn(known, name)) {
    throw sharedError(`${kind}_filter_name_not_recognized`, `Unknown filter_name ${JSON.stringify(name)}; known: ${Object.keys(known).join(', ')}.`);
  }
  if (value === undefined || value === null) throw sharedError(`${kind}_missing_filter_value`, `${name} needs a filter_value.`);
  const type = known[name] as FilterValueType;
  if (type === 'boolean') {
    if (typeof value === 'boolean') return { name, type, value };
    throw kind === 'member_search' ? sharedError('member_search_expected_boolean') : sharedError('invalid_search_query', `${name} takes a boolean.`);
  }
  if (type === 'string') {
    if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return { name, type, value };
    throw sharedError(`${kind}_expected_string`, `${name} takes a non-empty string of at most 1024 characters.`);
  }
  if (isStringList(value)) return { name, type, value };
  throw sharedError(`${kind}_expected_array_of_strings`, `${name} takes a list of 1 to ${MAX_FILTER_VALUES} strings.`);
}

function isStringList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= MAX_FILTER_VALUES &&
    value.every((entry) => typeof entry === 'string' && entry.length <= 1024)
  );
}
