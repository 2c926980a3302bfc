/**
 * Where JSON.parse refused `text`, as a character offset, for messages that name a line and column
 * (V8 names the position in some messages only). Found as the shortest prefix of the text that
 * fails for a reason other than ending too soon: the parser reads left to right, so every longer
 * prefix fails there too. Undefined when the text only ends too soon.
 */
export function jsonErrorOffset(text: string, error: unknown): number | undefined {
  const named = /at position (\d+)/.exec(error instanceof Error ? error.message : String(error))?.[1];
  if (named !== undefined) return Number(named);
  const failsBeforeEnd = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (failure) {
      const reason = failure instanceof Error ? failure.message : '';
      if (reason.includes('Unexpected end of JSON input')) return false;
      const at = /at position (\d+)/.exec(reason)?.[1];
      return at === undefined || Number(at) < length;
    }
  };
  if (!failsBeforeEnd(text.length)) return undefined;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (failsBeforeEnd(middle)) high = middle;
    else low = middle + 1;
  }
  return Math.max(0, low - 1);
}

/** `line L, column C` (both from 1) of a character offset. */
export function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}
