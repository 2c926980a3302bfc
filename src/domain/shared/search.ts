import { sharedError } from './errors.js';

/**
 * Stytch's search query (reference §I): `{operator: "AND" | "OR", operands: [{filter_name, filter_value}]}`.
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

export function parseSearchQuery(raw: RawSearchQuery | undefined, known: Readonly<Record<string, FilterValueType>>): SearchQuery {
  if (raw === undefined || raw === null) return { operator: 'AND', filters: [] };
  if (raw.operator !== 'AND' && raw.operator !== 'OR') {
    throw sharedError('invalid_search_query', 'query.operator must be AND or OR.');
  }
  const operands = raw.operands ?? [];
  if (!Array.isArray(operands)) throw sharedError('invalid_search_query', 'query.operands must be an array.');
  const filters = operands.map((operand: unknown) => parseOperand(operand, known));
  return { operator: raw.operator, filters };
}

function parseOperand(operand: unknown, known: Readonly<Record<string, FilterValueType>>): SearchFilter {
  if (operand === null || typeof operand !== 'object') {
    throw sharedError('invalid_search_query', 'Each operand must be an object with filter_name and filter_value.');
  }
  const { filter_name: name, filter_value: value } = operand as { filter_name?: unknown; filter_value?: unknown };
  if (typeof name !== 'string' || !Object.hasOwn(known, name)) {
    throw sharedError('invalid_search_query', `Unknown filter_name ${JSON.stringify(name)}; known: ${Object.keys(known).join(', ')}.`);
  }
  const type = known[name] as FilterValueType;
  if (type === 'boolean' && typeof value === 'boolean') return { name, type, value };
  if (type === 'string' && typeof value === 'string' && value.length > 0 && value.length <= 1024) return { name, type, value };
  if (type === 'string[]' && isStringList(value)) return { name, type, value };
  throw sharedError('invalid_search_query', `filter_value of ${name} must be ${describe(type)}.`);
}

function isStringList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= MAX_FILTER_VALUES &&
    value.every((entry) => typeof entry === 'string' && entry.length <= 1024)
  );
}

function describe(type: FilterValueType): string {
  if (type === 'string[]') return `a non-empty list of strings (at most ${MAX_FILTER_VALUES})`;
  return type === 'string' ? 'a non-empty string' : 'a boolean';
}
