/**
 * Just enough of the Dockerfile grammar to check what the image is made of without a container
 * runtime: comments, line continuations, `ARG` defaults, stages and the exec (JSON) and shell
 * forms of instructions. Parser directives (`# syntax=`) are comments here.
 */
export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ENV, … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly text: string;
  /** The `--name=value` flags at the start (COPY --from=build, HEALTHCHECK --interval=10s). */
  readonly flags: Readonly<Record<string, string>>;
  /** The rest after the flags. */
  readonly rest: string;
}

export interface Stage {
  /** The base image with `ARG` defaults substituted. */
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

function logicalLines(source: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of source.split('\n')) {
    const line = raw.trimEnd();
    // Comment lines are dropped, also between the lines of a continued instruction (as Docker does).
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    current += line.trim();
    if (current.trim() !== '') lines.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') lines.push(current.trim());
  return lines;
}

function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (match === null) return { flags, rest };
    flags[match[1] ?? ''] = match[2] ?? 'true';
    rest = rest.slice(match[0].length);
  }
}

function substitute(text: string, args: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => args[braced ?? bare ?? ''] ?? whole);
}

export function parseDockerfile(source: string): Dockerfile {
  const args: Record<string, string> = {};
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of logicalLines(source)) {
    const match = /^(\w+)\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`not an instruction: ${line}`);
    const keyword = (match[1] ?? '').toUpperCase();
    const text = match[2] ?? '';
    const { flags, rest } = splitFlags(text);
    if (keyword === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      stages.push({ from: substitute(image, args), name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push({ keyword, text, flags, rest });
  }
  return { args, stages };
}

/** The array of an exec-form instruction (`["understudy"]`), or undefined for the shell form. */
export function execForm(text: string): string[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  return JSON.parse(text) as string[];
}

/** `ENV a=b c=d` (and the old `ENV a b`), continuation lines joined; values may be double-quoted. */
export function environmentOf(stage: Stage): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const instruction of stage.instructions.filter((entry) => entry.keyword === 'ENV')) {
    if (!instruction.rest.includes('=')) {
      const [name = '', ...value] = instruction.rest.split(/\s+/);
      environment[name] = value.join(' ');
      continue;
    }
    for (const pair of instruction.rest.match(/\w+=("[^"]*"|\S*)/g) ?? []) {
      const at = pair.indexOf('=');
      environment[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return environment;
}
