// Order statistics of samples; nearest-rank percentiles, so a reported value is one that
// was measured.
export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (samples) => percentile(samples, 50);

export const mean = (samples) => samples.reduce((a, b) => a + b, 0) / samples.length;

/** a / b, or null when either is missing or b is 0 (a ratio that cannot be drawn). */
export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null;
}
