import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

/**
 * zxcvbn's running time grows quickly with length (its pattern search is roughly quadratic, more
 * with many look-alike characters), and each estimate holds a worker thread of a small pool
 * (zxcvbn-estimator.ts) for all that time. So only the first 64 characters are analysed: a longer
 * password is judged by that prefix, which is already a long password unless it is a repetition
 * (then the prefix is weak too, rightly). Measured worst cases stay near 150 ms on one core at this
 * length, against over a second at 100 with the library's defaults.
 */
export const ZXCVBN_ANALYSED_CHARACTERS = 64;

/**
 * How many look-alike readings (`p@$$w0rd` as `password`) are tried per part of a password. The
 * library's default (100) dominates its running time; 25 still finds a user input or a common word
 * written in look-alikes throughout.
 */
const L33T_MAX_SUBSTITUTIONS = 25;

/** Each user input is looked at up to this many characters: no address or name is longer. */
const USER_INPUT_MAX_CHARACTERS = 256;

export interface ZxcvbnEstimate {
  /** 0 (guessed at once) to 4 (very unguessable). */
  readonly score: number;
  /** The main problem, in English; "" when there is none. */
  readonly warning: string;
  readonly suggestions: readonly string[];
}

let factory: ZxcvbnFactory | undefined;

/**
 * One estimator for the process, built on first use: it ranks the dictionaries (English words,
 * names, common passwords) once, which takes a few hundred milliseconds, and is read-only afterwards.
 */
function estimator(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
    maxLength: ZXCVBN_ANALYSED_CHARACTERS,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  });
  return factory;
}

/** zxcvbn's score and feedback for `password`, with `userInputs` (the address, a name) counting against it. */
export function zxcvbnEstimate(password: string, userInputs: readonly string[]): ZxcvbnEstimate {
  const result = estimator().check(firstCharacters(password, ZXCVBN_ANALYSED_CHARACTERS), userInputWords(userInputs));
  return { score: result.score, warning: result.feedback.warning ?? '', suggestions: result.feedback.suggestions };
}

/**
 * The words a password must not be built from: each input whole, and for an email address its
 * local part, that local part without its separators, and each of its words and the domain's (so
 * `jane.doe@acme.com` makes `janedoe2024` and `AcmeJane!` weak too). Lower case, as zxcvbn compares.
 */
export function userInputWords(userInputs: readonly string[]): string[] {
  const words = new Set<string>();
  for (const input of userInputs) {
    const text = firstCharacters(input.trim().toLowerCase(), USER_INPUT_MAX_CHARACTERS);
    if (text === '') continue;
    words.add(text);
    const at = text.lastIndexOf('@');
    const local = at > 0 ? text.slice(0, at) : text;
    words.add(local);
    words.add(local.replace(/[^\p{L}\p{N}]+/gu, ''));
    for (const word of text.split(/[^\p{L}\p{N}]+/u)) {
      // Very short pieces (`jd`, `co`) would match by chance and say nothing about the person.
      if ([...word].length >= 3) words.add(word);
    }
  }
  words.delete('');
  return [...words];
}

/** The first `count` code points of `text` (never half of a surrogate pair). */
function firstCharacters(text: string, count: number): string {
  if (text.length <= count) return text;
  let end = 0;
  let taken = 0;
  for (const character of text) {
    if (taken === count) break;
    end += character.length;
    taken += 1;
  }
  return text.slice(0, end);
}
