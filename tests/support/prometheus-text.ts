/**
 * A reader of Prometheus's text exposition format (what prom-client writes), for the metrics tests:
 * every sample by name and labels, and every metric's declared type.
 */
export interface Exposition {
  /** Metric name (from `# TYPE`) to its type: counter, gauge, histogram, … */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (typed !== null) types.set(typed[1] as string, typed[2] as string);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1] as string, labels: parseLabels(match[2] ?? ''), value: Number(match[3]) });
  }
  return { types, samples };
}

/** `a="x",b="y \"quoted\""`: values may hold escaped backslashes, quotes and newlines. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_all, escaped: string) => (escaped === 'n' ? '\n' : escaped));
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`unreadable labels: {${text}}`);
  return labels;
}

/** The value of the one sample with exactly these labels; 0 when there is none (a counter not yet incremented). */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).sort();
  const found = exposition.samples.filter((sample) => sample.name === name && sameEntries(Object.entries(sample.labels).sort(), wanted));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** Every sample of `name`. */
export function samplesOf(exposition: Exposition, name: string): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name);
}

function sameEntries(a: [string, string][], b: [string, string][]): boolean {
  return a.length === b.length && a.every(([key, value], index) => b[index]?.[0] === key && b[index]?.[1] === value);
}
