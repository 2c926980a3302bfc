// Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time.
import { readFileSync } from 'node:fs';

/** The top `limit` functions by self time, with their share of all non-idle samples. */
export function summariseProfile(file, limit = 20, root = '') {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  let total = 0;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const node = nodes.get(profile.samples[index]);
    const delta = profile.timeDeltas[index] ?? 0;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') continue;
    const where = frame.url ? `${shorten(frame.url, root)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}\t${where}`;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
    total += delta;
  }
  return {
    busy_ms: Math.round(total / 1000),
    top: [...selfMicros.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([key, micros]) => {
        const [name, location] = key.split('\t');
        return { function: name, location, self_ms: Math.round(micros / 1000), self_percent: Number(((100 * micros) / total).toFixed(1)) };
      }),
  };
}

/** A path relative to the repository, or from `node_modules/<package>` on. */
function shorten(url, root) {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  return root && path.startsWith(root) ? path.slice(root.length + 1) : path;
}
