// The Rush hour lab's exact figures: every time to answer, time to done and catalog call the load
// process took (its `measured` events), laid into the sampler's seconds. Each second's percentiles are
// taken by nearest rank over that second's figures: exact, one of the figures themselves, never read
// off histogram buckets. Figures come in late (a time to done is known once the order is), so each
// second is worked out again from all of them whenever a sample is added.
import {
  type ExactQuantiles,
  type LoadMeasuredEvent,
  type MeasuredSecond,
  percentile,
  type RushSample,
} from "../contract";

/** A figure, with when it was taken on the sampler's clock (ms since the run's first scrape). */
interface Figure {
  atMs: number;
  ms: number;
}

/** p50, p95 and p99 of the values, and how many there were (null: none). */
export function exactQuantiles(values: readonly number[]): ExactQuantiles | null {
  const sorted = [...values].sort((a, b) => a - b);
  const p50 = percentile(sorted, 0.5);
  const p95 = percentile(sorted, 0.95);
  const p99 = percentile(sorted, 0.99);
  if (p50 === null || p95 === null || p99 === null) return null;
  return { count: sorted.length, p50, p95, p99 };
}

export class Measurements {
  private readonly answers: Figure[] = [];
  private readonly done: Figure[] = [];
  private readonly catalog: Figure[] = [];

  /** `offsetMs`: when the load process started counting, in ms after the sampler's start. */
  constructor(private readonly offsetMs: number) {}

  add(event: LoadMeasuredEvent): void {
    const onOurClock = ({ at, ms }: { at: number; ms: number }) => ({ atMs: this.offsetMs + at, ms });
    this.answers.push(...event.answers.map(onOurClock));
    this.done.push(...event.done.map(onOurClock));
    this.catalog.push(...event.catalog.map(onOurClock));
  }

  /** The figures of each sample's second: the one ending at its `t` and starting at the previous
   * sample's (or at 0). A figure taken after the last sample waits for the next. */
  bySecond(samples: readonly Pick<RushSample, "t">[]): MeasuredSecond[] {
    const ends = samples.map((sample) => sample.t * 1000);
    const answers = spread(this.answers, ends);
    const done = spread(this.done, ends);
    const catalog = spread(this.catalog, ends);
    return ends.map((_end, index) => ({
      answerMs: exactQuantiles(answers[index] ?? []),
      doneMs: exactQuantiles(done[index] ?? []),
      catalogMs: exactQuantiles(catalog[index] ?? []),
    }));
  }
}

/** The figures' values, grouped by the window each fell into (ends ascending). */
function spread(figures: readonly Figure[], ends: readonly number[]): number[][] {
  const windows = ends.map((): number[] => []);
  for (const figure of figures) {
    const index = firstAtOrAfter(ends, figure.atMs);
    if (index < ends.length) windows[index]?.push(figure.ms);
  }
  return windows;
}

/** The first index whose end is at or after `atMs` (ends.length: none). */
function firstAtOrAfter(ends: readonly number[], atMs: number): number {
  let low = 0;
  let high = ends.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((ends[middle] ?? 0) < atMs) low = middle + 1;
    else high = middle;
  }
  return low;
}
