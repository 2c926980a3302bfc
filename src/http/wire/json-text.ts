/** Control and format characters (C0, DEL, C1, bidi overrides, zero-width) and the two JS line separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * `JSON.stringify` with every control and format character written as a `\uXXXX` escape. The
 * parsed value is the same; the text is safe to print on a terminal (no ANSI or C1 sequences, no
 * bidi overrides that reorder a line) and to read line by line. Used for NDJSON exports, which are
 * read by people as much as by programs.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(INVISIBLE, (character) => {
    let escaped = '';
    // An astral format character (a tag, say) is written as its surrogate pair, as JSON requires.
    for (let index = 0; index < character.length; index += 1) escaped += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
    return escaped;
  });
}
