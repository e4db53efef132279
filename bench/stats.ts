// Small statistics for benchmark figures: medians of runs and latency percentiles.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A latency recorder in nanoseconds (Node's HDR histogram: constant memory, exact enough). */
export function latencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: 60e9, figures: 3 });
}

/** Percentile of a histogram in microseconds, or NaN if nothing was recorded. */
export function percentileMicros(histogram: RecordableHistogram, percentile: number): number {
  return histogram.count === 0 ? Number.NaN : histogram.percentile(percentile) / 1000;
}

/** Formats a figure with a sensible number of significant digits. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
