#!/usr/bin/env node
// Keeps the repository self-contained: nothing in it may read, link or cite material that lives
// outside it, nor cite the tracker instead of stating a fact.
//
//   node scripts/check-self-contained.mjs [root]
//
// Reports, per line, a relative path to a `shared` folder that is not part of the repository, a
// path into the reference material kept beside it, a section sign (section citations of an outside document; RFC sections such as "RFC 9562 §5.7" are public
// standards and allowed) and issue-number citations ("issue N", "issues #N", a bare "#N"), while
// HTML numeric entities and CSS colours are not citations. Exits 1 when it finds any.
// The patterns below are spelled with escapes so this file does not report itself.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What is scanned, relative to the root: these folders (when present) and these files. */
export const SCANNED_DIRECTORIES = ['src', 'tests', 'bench', 'docs', 'examples', 'scripts', 'contract'];
export const SCANNED_FILES = ['README.md', 'package.json', 'vitest.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'biome.json'];
/** Generated output, ignored by git: never part of what is committed. */
const SKIPPED = new Set(['node_modules', 'dist', join('bench', 'results'), join('bench', '.build'), join('tests', 'screenshots')]);
const TEXT_FILE = /\.(?:[cm]?[jt]s|json|md|ya?ml|html|css|sql|sh|txt)$/;

const SECTION_SIGN = '\u00a7';
const OUTSIDE_REFERENCE = /shared\/reference/g;
const RELATIVE_SHARED = /(?:\.\.\/)+shared(?![\w-])/g;
const SECTION = new RegExp(SECTION_SIGN, 'g');
const RFC_BEFORE_SECTION = /\bRFC\s?\d+,?\s*$/;
const SECTION_CITED = new RegExp(`^${SECTION_SIGN}\\s*[\\w.\u2013-]*\\w`);
const ISSUE_WORD = /\b(?:issues?\s*#\s*\d+|issue\s+\d+)\b/gi;
const BARE_NUMBER = /(?<![&\w/#])#\d+\b/g;
/** A CSS colour of digits only (`#333;`, `#000000 }`) ends a declaration; an issue number does not. */
const CSS_COLOUR_END = /^\s*(?:[;},)]|!important)/;

function listFiles(root, directory) {
  const files = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (SKIPPED.has(relative(root, path))) continue;
    if (entry.isDirectory()) files.push(...listFiles(root, path));
    else if (entry.isFile() && TEXT_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/** Every scanned file under `root`. */
export function scannedFiles(root) {
  const files = [];
  for (const directory of SCANNED_DIRECTORIES) {
    const path = join(root, directory);
    if (existsSync(path) && statSync(path).isDirectory()) files.push(...listFiles(root, path));
  }
  for (const file of SCANNED_FILES) if (existsSync(join(root, file))) files.push(join(root, file));
  return files;
}

/** The findings of one line of `file` (absolute), as messages. */
function lineFindings(root, file, line) {
  const findings = [];
  for (const match of line.matchAll(OUTSIDE_REFERENCE)) findings.push(`"${match[0]}": material outside the repository; state the fact or link public documentation`);
  for (const match of line.matchAll(RELATIVE_SHARED)) {
    // A relative path to a `shared` folder is fine when that folder is inside this repository.
    const target = resolve(dirname(file), match[0]);
    const inside = target.startsWith(root + sep) && existsSync(target);
    if (!inside) findings.push(`"${match[0]}": a path outside the repository`);
  }
  for (const match of line.matchAll(SECTION)) {
    const cited = SECTION_CITED.exec(line.slice(match.index))?.[0] ?? SECTION_SIGN;
    if (!RFC_BEFORE_SECTION.test(line.slice(0, match.index))) findings.push(`"${cited}": a section citation of an outside document; state the fact`);
  }
  const issueSpans = [];
  for (const match of line.matchAll(ISSUE_WORD)) {
    issueSpans.push([match.index, match.index + match[0].length]);
    findings.push(`"${match[0]}": an issue citation; state the fact`);
  }
  for (const match of line.matchAll(BARE_NUMBER)) {
    if (issueSpans.some(([start, end]) => match.index >= start && match.index < end)) continue;
    const digits = match[0].length - 1;
    const rest = line.slice(match.index + match[0].length);
    if ([3, 4, 6, 8].includes(digits) && CSS_COLOUR_END.test(rest)) continue;
    findings.push(`"${match[0]}": an issue citation; state the fact`);
  }
  return findings;
}

/** `path:line: message` for every finding under `root`. */
export function findOutsideReferences(root) {
  const absoluteRoot = resolve(root);
  const findings = [];
  for (const file of scannedFiles(absoluteRoot)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      for (const message of lineFindings(absoluteRoot, file, line)) findings.push(`${relative(absoluteRoot, file)}:${index + 1}: ${message}`);
    });
  }
  return findings;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? PROJECT_ROOT);
  const findings = findOutsideReferences(root);
  if (findings.length > 0) {
    process.stderr.write(`check-self-contained: ${findings.length} reference(s) to material outside the repository\n${findings.map((finding) => `  ${finding}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`check-self-contained: ${scannedFiles(root).length} files, no outside references\n`);
  }
}
