// What a load run measures, and the events that report it: answers, catalog calls and times to done as
// they come (each also kept for the next `measured` event), errors by kind and retries, the progress line
// every second and the summary at the end. The run (runner.ts) says what happened; this counts it.
import type {
  LoadErrorKind,
  LoadEvent,
  LoadMeasuredEvent,
  LoadSummaryEvent,
  OrderView,
} from "../../server/contract";
import { doneFromClick, percentiles, perSecond, Timings, tenth } from "./figures";

/** When a placed order's shopper pressed Purchase (performance.now()), and how long the answer took. */
export interface Clicked {
  pressedAt: number;
  answerMs: number;
}

/** The summary's words for how the run ended, and what only the run knows. */
export interface Ending {
  runId: string;
  stoppedBy: LoadSummaryEvent["stoppedBy"];
  /** From the start to the last answer. */
  loadMs: number;
  /** Placed orders not followed to done (past the sample, without --watch). */
  notFollowed: number;
  unsettled: number;
  peakQueueDepth: number | null;
}

export class Tally {
  sent = 0;
  placed = 0;
  abandoned = 0;
  dropped = 0;
  readonly retries = { busy: 0, stillProcessing: 0 };
  private placedInWindow = 0;
  private readonly answers = new Timings();
  private readonly catalog = new Timings();
  private readonly done: number[] = [];
  /** When each followed order was done, in ms since the start. */
  private readonly doneAt: number[] = [];
  private readonly errors = new Map<LoadErrorKind, number>();
  /** Figures taken since the last `measured` event. */
  private measured: Omit<LoadMeasuredEvent, "type"> = { answers: [], done: [], catalog: [] };
  /** performance.now() at the start: every `at` counts from here. */
  private startedAt = 0;
  /** The elapsedMs of the last progress line: the next one's window starts there. */
  private lastProgressMs = 0;

  constructor(private readonly emit: (event: LoadEvent) => void) {}

  /** Starts the clock every `at` counts from; returns its reading. */
  begin(): number {
    this.startedAt = performance.now();
    this.lastProgressMs = 0;
    return this.startedAt;
  }

  catalogRead(listedAt: number, listedMs: number): void {
    this.catalog.add(listedMs);
    this.measured.catalog.push({ at: tenth(listedAt + listedMs - this.startedAt), ms: tenth(listedMs) });
  }

  answered(pressedAt: number, answerMs: number): void {
    this.placed++;
    this.placedInWindow++;
    this.answers.add(answerMs);
    this.measured.answers.push({ at: tenth(pressedAt + answerMs - this.startedAt), ms: tenth(answerMs) });
  }

  failed(kind: LoadErrorKind): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  /** Records the order's time to done from the click, if it is done (false: not yet). */
  recordDone(order: OrderView, clicked: Clicked): boolean {
    const ms = doneFromClick(order, clicked.answerMs);
    if (ms === null) return false;
    const at = clicked.pressedAt + ms - this.startedAt;
    this.done.push(ms);
    this.doneAt.push(at);
    this.measured.done.push({ at: tenth(at), ms: tenth(ms) });
    return true;
  }

  /** The figures taken since the last call, if any. */
  emitMeasured(): void {
    const { answers, done, catalog } = this.measured;
    if (answers.length + done.length + catalog.length === 0) return;
    this.emit({ type: "measured", answers, done, catalog });
    this.measured = { answers: [], done: [], catalog: [] };
  }

  /** A progress line: its orders/s is the orders placed since the last line ÷ the time between the two
   * lines' elapsedMs, one reading of the clock for both (timed apart, writing the figures between them
   * made the rate disagree with the elapsed times it reports). */
  progress(inFlight: number, queueDepth: number | null): void {
    const elapsedMs = Math.round(performance.now() - this.startedAt);
    const windowS = Math.max(0.001, (elapsedMs - this.lastProgressMs) / 1000);
    this.lastProgressMs = elapsedMs;
    this.emitMeasured();
    const errors = this.errorCount();
    this.emit({
      type: "progress",
      elapsedMs,
      answered: this.placed + errors,
      placed: this.placed,
      errors,
      ordersPerSecond: Math.round((this.placedInWindow / windowS) * 10) / 10,
      inFlight,
      answerMs: percentiles(this.answers.takeWindow()),
      catalogMs: percentiles(this.catalog.takeWindow()),
      queueDepth,
    });
    this.placedInWindow = 0;
  }

  /** The last figures and the summary, which it also returns. */
  summary({ runId, stoppedBy, loadMs, notFollowed, unsettled, peakQueueDepth }: Ending): LoadSummaryEvent {
    const errors: LoadSummaryEvent["errors"] = {};
    for (const [kind, n] of this.errors) errors[kind] = n;
    const summary: LoadSummaryEvent = {
      type: "summary",
      runId,
      stoppedBy,
      elapsedMs: Math.round(loadMs),
      sent: this.sent,
      answered: this.placed + this.errorCount(),
      placed: this.placed,
      errors,
      abandoned: this.abandoned,
      dropped: this.dropped,
      retries: { ...this.retries },
      ordersPerSecond: perSecond(this.placed, loadMs),
      donePerSecond:
        notFollowed > 0 ? null : perSecond(this.doneAt.filter((at) => at <= loadMs).length, loadMs),
      answerMs: percentiles(this.answers.all),
      doneMs: { ...percentiles(this.done), measured: this.done.length, unsettled },
      catalogMs: { ...percentiles(this.catalog.all), calls: this.catalog.all.length },
      peakQueueDepth,
    };
    this.emitMeasured();
    this.emit(summary);
    return summary;
  }

  private errorCount(): number {
    return [...this.errors.values()].reduce((sum, n) => sum + n, 0);
  }
}
