/** Small JSON-schema builders so route schemas read like the Stytch request tables. */
export const str = { type: 'string', maxLength: 4096 } as const;
export const bool = { type: 'boolean' } as const;
export const strList = { type: 'array', items: str, maxItems: 1000 } as const;
export const jsonObject = { type: 'object' } as const;
/** Query-string booleans arrive as text. */
export const queryBool = { type: 'string', enum: ['true', 'false'] } as const;

export function objectSchema(properties: Record<string, unknown>, required: readonly string[] = []): Record<string, unknown> {
  return { type: 'object', properties, required: [...required] };
}

export function queryFlag(value: string | undefined): boolean {
  return value === 'true';
}
