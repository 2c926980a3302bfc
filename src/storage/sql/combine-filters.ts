import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { SearchFilter, SearchQuery } from '../../domain/common/search.js';
import type { Database } from '../database.js';

/** AND (or Stytch's deprecated OR) of the query's filters; a query without filters matches everything. */
export function combineFilters<Table extends keyof Database>(
  eb: ExpressionBuilder<Database, Table>,
  query: SearchQuery,
  filter: (eb: ExpressionBuilder<Database, Table>, filter: SearchFilter) => Expression<SqlBool>,
): Expression<SqlBool> {
  if (query.filters.length === 0) return sql<SqlBool>`1 = 1`;
  const parts = query.filters.map((entry) => filter(eb, entry));
  return query.operator === 'OR' ? eb.or(parts) : eb.and(parts);
}
