// Summaries of repeated timings: the median (robust to one slow run), the
// full range and the interquartile range, so a reader sees the spread too.
"use strict";

/** The q-quantile (0..1) of sorted values, interpolating between neighbours. */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function median(xs) {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** { median, min, max, q1, q3, runs, values } of a list of numbers. */
function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    min: s[0],
    max: s[s.length - 1],
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    runs: s.length,
    values: xs,
  };
}

module.exports = { quantile, median, summary };
