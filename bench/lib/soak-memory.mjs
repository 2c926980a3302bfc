// The soak's memory figures, per server process: resident memory read from /proc every few seconds,
// the V8 heap left live after each full garbage collection (from the server's `--trace-gc` lines),
// and the verdict on whether memory stayed flat once warmed up.
import { existsSync, readFileSync } from 'node:fs';
import { median } from './runner.mjs';

/**
 * Flat memory, per server process, judged on what comes after the warm-up (a quarter of the soak,
 * at most 60 s), split into thirds by time:
 * - the live V8 heap after full collections (the JavaScript objects still reachable, where a leak
 *   of requests, sessions or connections accumulates) grows by at most `maxHeapBytesPerRequest`
 *   per request the process answered: the least-squares slope of the live heap over time, divided
 *   by the process's request rate. Per request, so that the limit means the same on a faster
 *   machine; it leaves room for the server's bounded per-session caches, which fill for many minutes
 *   under a workload that keeps starting sessions (docs/reliability.md, "Load and soak");
 * - the resident memory (`VmRSS`, which also holds native buffers, sockets and code): the median
 *   of the last third at most `maxRssGrowthPercent` above the median of the first third. Its slope
 *   is reported, not judged: between full collections the heap fills with garbage and RSS rises for
 *   tens of seconds before it falls back, so over two minutes its slope says when the collector ran.
 * Soaks shorter than `minimumSeconds` are reported but not judged.
 */
export const FLAT_MEMORY = { maxHeapBytesPerRequest: 150, maxRssGrowthPercent: 10, minimumSeconds: 60, minimumSamples: 9, minimumCollections: 6 };

/** The node flag that makes a server print one line per garbage collection on its stdout (its log file). */
export const TRACE_GC_FLAG = '--trace-gc';

export function warmupSecondsFor(durationSeconds) {
  return Math.min(60, durationSeconds / 4);
}

/**
 * Samples `VmRSS` (all resident memory) and `RssAnon` (its anonymous part: the V8 heap and native
 * allocations, without mapped files) of each pid every `intervalSeconds`, from now on.
 * `stop()` returns the samples per pid: [{ at_seconds, rss_mb, anon_mb }].
 */
export function sampleMemory(pids, intervalSeconds) {
  const startedAt = performance.now();
  const samples = pids.map(() => []);
  const take = () => {
    const atSeconds = Number(((performance.now() - startedAt) / 1000).toFixed(2));
    pids.forEach((pid, index) => {
      const status = readStatus(pid);
      if (status !== undefined) samples[index].push({ at_seconds: atSeconds, ...status });
    });
  };
  take();
  const timer = setInterval(take, intervalSeconds * 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/**
 * The figures of one process: `samples` from sampleMemory, `collections` from readFullCollections
 * (both timed from the start of the traffic), the rate at which it answered, and whether they meet FLAT_MEMORY.
 */
export function judgeMemory(samples, collections, durationSeconds, requestsPerSecond) {
  const warmupSeconds = warmupSecondsFor(durationSeconds);
  const thirds = (points) => {
    const after = points.filter((point) => point.at_seconds >= warmupSeconds && point.at_seconds <= durationSeconds);
    const span = durationSeconds - warmupSeconds;
    return {
      after,
      early: after.filter((point) => point.at_seconds < warmupSeconds + span / 3),
      late: after.filter((point) => point.at_seconds >= warmupSeconds + (2 * span) / 3),
    };
  };
  const rss = thirds(samples);
  const heap = thirds(collections);
  const medianOf = (points, field) => round(medianOrNaN(points.map((point) => point[field])));
  const figures = {
    samples: samples.length,
    full_collections: collections.length,
    warmup_seconds: warmupSeconds,
    rss_at_start_mb: round(samples[0]?.rss_mb),
    rss_early_median_mb: medianOf(rss.early, 'rss_mb'),
    rss_late_median_mb: medianOf(rss.late, 'rss_mb'),
    rss_peak_mb: round(Math.max(...samples.map((sample) => sample.rss_mb))),
    rss_at_end_mb: round(samples.at(-1)?.rss_mb),
    rss_growth_percent: null,
    rss_slope_mb_per_minute: slope(rss.after, 'rss_mb'),
    anon_early_median_mb: medianOf(rss.early, 'anon_mb'),
    anon_late_median_mb: medianOf(rss.late, 'anon_mb'),
    heap_early_median_mb: medianOf(heap.early, 'heap_after_mb'),
    heap_late_median_mb: medianOf(heap.late, 'heap_after_mb'),
    heap_growth_percent: null,
    heap_slope_mb_per_minute: slope(heap.after, 'heap_after_mb'),
    heap_bytes_per_request: null,
    judged: false,
    flat: null,
    reason: null,
  };
  figures.rss_growth_percent = growth(figures.rss_early_median_mb, figures.rss_late_median_mb);
  figures.heap_growth_percent = growth(figures.heap_early_median_mb, figures.heap_late_median_mb);
  if (figures.heap_slope_mb_per_minute !== null && requestsPerSecond > 0) figures.heap_bytes_per_request = Math.round((figures.heap_slope_mb_per_minute * MB) / (requestsPerSecond * 60));
  if (durationSeconds < FLAT_MEMORY.minimumSeconds) {
    figures.reason = `not judged: ${durationSeconds} s (needs ${FLAT_MEMORY.minimumSeconds} s)`;
    return figures;
  }
  figures.judged = true;
  const problems = [];
  if (rss.after.length < FLAT_MEMORY.minimumSamples || rss.early.length === 0 || rss.late.length === 0) problems.push(`only ${rss.after.length} RSS samples after the warm-up`);
  else if (figures.rss_growth_percent > FLAT_MEMORY.maxRssGrowthPercent) problems.push(`RSS grew ${figures.rss_growth_percent}% (limit ${FLAT_MEMORY.maxRssGrowthPercent}%)`);
  if (heap.after.length < FLAT_MEMORY.minimumCollections) problems.push(`only ${heap.after.length} full collections after the warm-up, too few to judge the heap`);
  else if (figures.heap_bytes_per_request === null) problems.push('no request answered: the heap cannot be judged per request');
  else if (figures.heap_bytes_per_request > FLAT_MEMORY.maxHeapBytesPerRequest) {
    problems.push(`live heap grew ${figures.heap_bytes_per_request} bytes per request (${figures.heap_slope_mb_per_minute} MB/min; limit ${FLAT_MEMORY.maxHeapBytesPerRequest})`);
  }
  figures.flat = problems.length === 0;
  figures.reason = figures.flat ? 'flat' : problems.join('; ');
  return figures;
}

/**
 * The full (mark-compact) collections a `--trace-gc` server printed into its log, timed from the
 * start of the traffic: V8 times them from the process start, and the process was
 * `ageAtStartSeconds` old when the traffic began. [{ at_seconds, heap_before_mb, heap_after_mb, heap_committed_mb }];
 * none when the log or the age is missing (then the heap is not judged, and a judged soak fails).
 */
export function readFullCollections(logFile, ageAtStartSeconds) {
  if (ageAtStartSeconds === undefined || !existsSync(logFile)) return [];
  // e.g. "[4242:0x5f1c3a0]    4041 ms: Mark-Compact 29.1 (58.5) -> 20.2 (58.5) MB, 4.88 / 0.15 ms  (…) allocation failure"
  const line = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: Mark-Compact(?: \(reduce\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;
  const collections = [];
  for (const text of readFileSync(logFile, 'utf8').split('\n')) {
    const match = line.exec(text);
    if (!match) continue;
    collections.push({ at_seconds: round(Number(match[1]) / 1000 - ageAtStartSeconds), heap_before_mb: Number(match[2]), heap_after_mb: Number(match[4]), heap_committed_mb: Number(match[5]) });
  }
  return collections.filter((collection) => collection.at_seconds >= 0);
}

/** /proc and V8's --trace-gc both count in units of 1,048,576 bytes. */
const MB = 1024 * 1024;

function slope(points, field) {
  return points.length < 2 ? null : round(leastSquaresSlope(points.map((point) => [point.at_seconds / 60, point[field]])));
}

function growth(early, late) {
  return early === null || late === null ? null : round(((late - early) / early) * 100);
}

/** Slope of the least-squares line through [x, y] points. */
function leastSquaresSlope(points) {
  const count = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / count;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / count;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

/** runner.mjs's median answers 0 for no numbers; here no numbers means no figure. */
function medianOrNaN(numbers) {
  return numbers.length === 0 ? Number.NaN : median(numbers);
}

function round(value) {
  return value === undefined || !Number.isFinite(value) ? null : Number(value.toFixed(2));
}

/** VmRSS and RssAnon in MB, or undefined when the process is gone or /proc is not there. */
function readStatus(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
    return { rss_mb: round(field('VmRSS')), anon_mb: round(field('RssAnon')) };
  } catch {
    return undefined;
  }
}
