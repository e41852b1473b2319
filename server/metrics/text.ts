// The Prometheus text format (0.0.4), read strictly, and the arithmetic the Rush hour panel needs on
// it: several processes' numbers summed into one, a counter's rate between two samples, a quantile
// from histogram buckets (as Prometheus' histogram_quantile computes it). Pure functions: no I/O.
// prom-client writes this format but cannot read it; this reader refuses anything it does not
// understand, so a test that parses a scrape proves every line is well-formed.
// @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export const METRIC_TYPES = ["counter", "gauge", "histogram", "summary", "untyped"] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export type Labels = Record<string, string>;

export interface Sample {
  /** The sample's own name: for a histogram `x`, one of x_bucket, x_sum, x_count. */
  name: string;
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

/** Metric families by name. A plain object, so it travels as JSON (tRPC) unchanged. */
export type Families = Record<string, Family>;

export class PrometheusTextError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "PrometheusTextError";
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count", ""],
};

/** As Prometheus reads values (Go's ParseFloat): Inf and NaN in any case, so prom-client's "Nan" too. */
function parseValue(text: string, line: number): number {
  const special = text.toLowerCase();
  if (special === "+inf" || special === "inf") return Number.POSITIVE_INFINITY;
  if (special === "-inf") return Number.NEGATIVE_INFINITY;
  if (special === "nan") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new PrometheusTextError(line, `not a number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function unescapeText(text: string, inLabel: boolean): string {
  return text.replace(/\\(.)/g, (whole, char: string) => {
    if (char === "n") return "\n";
    if (char === "\\") return "\\";
    if (char === '"' && inLabel) return '"';
    return whole;
  });
}

/** `{a="x",b="y"}` starting at `start`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): { labels: Labels; end: number } {
  const labels: Labels = {};
  let at = start + 1;
  for (;;) {
    if (text[at] === "}") return { labels, end: at + 1 };
    const eq = text.indexOf("=", at);
    if (eq === -1) throw new PrometheusTextError(line, "label without a value");
    const name = text.slice(at, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PrometheusTextError(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new PrometheusTextError(line, `label ${name} given twice`);
    if (text[eq + 1] !== '"') throw new PrometheusTextError(line, `label ${name}: value must be quoted`);
    let end = eq + 2;
    while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
    if (end >= text.length) throw new PrometheusTextError(line, `label ${name}: unterminated value`);
    labels[name] = unescapeText(text.slice(eq + 2, end), true);
    at = end + 1;
    if (text[at] === ",") at++;
    else if (text[at] !== "}") throw new PrometheusTextError(line, "expected , or } after a label");
  }
}

function seriesKey(name: string, labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return `${name}{${pairs.join(",")}}`;
}

/** Which declared family a sample belongs to. */
function familyOf(name: string, families: Families): Family | undefined {
  if (families[name]?.type !== "histogram" && families[name]) return families[name];
  for (const family of Object.values(families)) {
    const suffixes = SUFFIXES[family.type];
    if (suffixes?.some((suffix) => suffix !== "" && `${family.name}${suffix}` === name)) return family;
  }
  return undefined;
}

/** Parses a scrape. Every line must be a comment, HELP, TYPE or a sample of a family whose TYPE came
 * first; every family must have HELP and TYPE; a series may appear once. Throws PrometheusTextError. */
export function parsePrometheusText(text: string): Families {
  const families: Families = {};
  const seen = new Set<string>();
  const declare = (name: string, line: number): Family => {
    if (!METRIC_NAME.test(name))
      throw new PrometheusTextError(line, `bad metric name ${JSON.stringify(name)}`);
    families[name] ??= { name, type: "untyped", help: "", samples: [] };
    return families[name];
  };
  const typed = new Set<string>();
  const helped = new Set<string>();

  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === "") return;
    const meta = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(content);
    if (meta) {
      const [, kind, name = "", rest = ""] = meta;
      const family = declare(name, line);
      if (kind === "HELP") {
        if (helped.has(name)) throw new PrometheusTextError(line, `second HELP for ${name}`);
        helped.add(name);
        family.help = unescapeText(rest, false);
      } else {
        const type = METRIC_TYPES.find((candidate) => candidate === rest.trim());
        if (!type) throw new PrometheusTextError(line, `unknown type ${JSON.stringify(rest)}`);
        if (typed.has(name)) throw new PrometheusTextError(line, `second TYPE for ${name}`);
        if (family.samples.length) throw new PrometheusTextError(line, `TYPE for ${name} after its samples`);
        typed.add(name);
        family.type = type;
      }
      return;
    }
    if (content.startsWith("#")) return;

    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(content);
    if (!nameMatch) throw new PrometheusTextError(line, `not a sample: ${JSON.stringify(content)}`);
    const name = nameMatch[0];
    let at = name.length;
    let labels: Labels = {};
    if (content[at] === "{") ({ labels, end: at } = parseLabels(content, at, line));
    const fields = content.slice(at).trim().split(/\s+/);
    if (content[at] !== " " && content[at] !== "\t") {
      throw new PrometheusTextError(line, "expected a space before the value");
    }
    if (fields.length < 1 || fields.length > 2 || fields[0] === "") {
      throw new PrometheusTextError(line, "expected a value and at most a timestamp");
    }
    const value = parseValue(fields[0] ?? "", line);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) {
      throw new PrometheusTextError(line, `bad timestamp ${JSON.stringify(fields[1])}`);
    }
    const family = familyOf(name, families);
    if (!family || !typed.has(family.name)) {
      throw new PrometheusTextError(line, `sample ${name} before (or without) its # TYPE line`);
    }
    if (family.type === "histogram" && name.endsWith("_bucket") && labels.le === undefined) {
      throw new PrometheusTextError(line, `histogram bucket ${name} without an le label`);
    }
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new PrometheusTextError(line, `series ${key} appears twice`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });

  for (const name of Object.keys(families)) {
    if (!helped.has(name) || !typed.has(name)) {
      throw new PrometheusTextError(0, `family ${name} lacks its ${helped.has(name) ? "TYPE" : "HELP"} line`);
    }
  }
  return families;
}

/** Several processes' families as one: identical series summed (counters, gauges, histogram buckets,
 * sums and counts alike). A family only some processes export is kept as it is. */
export function mergeFamilies(all: readonly Families[]): Families {
  const merged: Families = {};
  const index = new Map<string, Sample>();
  for (const families of all) {
    for (const family of Object.values(families)) {
      const target = merged[family.name] ?? { ...family, samples: [] };
      merged[family.name] = target;
      for (const sample of family.samples) {
        const key = seriesKey(sample.name, sample.labels);
        const existing = index.get(key);
        if (existing) existing.value += sample.value;
        else {
          const copy = { ...sample, labels: { ...sample.labels } };
          index.set(key, copy);
          target.samples.push(copy);
        }
      }
    }
  }
  return merged;
}

function hasLabels(labels: Labels, wanted: Labels): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** The sum of a counter's or gauge's series whose labels include `labels` (0 if there is none); of a histogram,
 * name one of its sample series (`x_count`). */
export function seriesSum(families: Families, name: string, labels: Labels = {}, sampleName = name): number {
  const family = families[name];
  if (!family) return 0;
  return family.samples
    .filter((sample) => sample.name === sampleName && hasLabels(sample.labels, labels))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** A counter read at a moment (ms). */
export interface CounterReading {
  value: number;
  at: number;
}

/** Per second between two readings. A counter that went down was reset (a process restarted): then
 * everything it counted since counts, as Prometheus' rate() assumes. */
export function rateBetween(before: CounterReading, after: CounterReading): number {
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return 0;
  const increase = after.value >= before.value ? after.value - before.value : after.value;
  return increase / seconds;
}

/** A histogram's cumulative buckets: how many observations were ≤ le. */
export interface Bucket {
  le: number;
  count: number;
}

export interface HistogramReading {
  buckets: Bucket[];
  count: number;
  sum: number;
}

/** A histogram's series whose labels include `labels`, summed, buckets sorted by le. */
export function histogramOf(families: Families, name: string, labels: Labels = {}): HistogramReading {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const sample of families[name]?.samples ?? []) {
    const { le, ...rest } = sample.labels;
    if (!hasLabels(rest, labels)) continue;
    if (sample.name === `${name}_bucket` && le !== undefined) {
      const bound = parseValue(le, 0);
      byLe.set(bound, (byLe.get(bound) ?? 0) + sample.value);
    } else if (sample.name === `${name}_count`) count += sample.value;
    else if (sample.name === `${name}_sum`) sum += sample.value;
  }
  const buckets = [...byLe]
    .map(([le, bucketCount]) => ({ le, count: bucketCount }))
    .sort((a, b) => a.le - b.le);
  return { buckets, count, sum };
}

/** What was observed between two readings of one histogram (a reset: everything since). */
export function histogramDelta(before: HistogramReading, after: HistogramReading): HistogramReading {
  if (after.count < before.count) return after;
  const earlier = new Map(before.buckets.map((bucket) => [bucket.le, bucket.count]));
  return {
    buckets: after.buckets.map(({ le, count }) => ({
      le,
      count: Math.max(0, count - (earlier.get(le) ?? 0)),
    })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * The q-quantile (0 ≤ q ≤ 1) estimated from cumulative buckets, as Prometheus' histogram_quantile:
 * find the bucket the rank falls in and interpolate linearly inside it (the first bucket starts at 0).
 * A rank in the +Inf bucket answers the highest finite bound. Null when nothing was observed.
 */
export function quantileOf(q: number, buckets: readonly Bucket[]): number | null {
  if (Number.isNaN(q) || q < 0 || q > 1) throw new RangeError(`quantile ${q} is not within 0..1`);
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted.at(-1);
  if (!last || last.le !== Number.POSITIVE_INFINITY || last.count === 0) return null;
  const rank = q * last.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [index, bucket] of sorted.entries()) {
    if (bucket.count >= rank && bucket.count > lowerCount) {
      if (bucket.le === Number.POSITIVE_INFINITY) return sorted[index - 1]?.le ?? null;
      if (index === 0 && bucket.le <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / (bucket.count - lowerCount));
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return sorted.at(-2)?.le ?? null;
}
