// Bounded slots with a waiting line: at most `limit()` holders at once; the next ones wait, in arrival
// order, up to `waitMs()` for a slot and are then turned away. The same idea twice in the web process:
// checkout admission (server/checkout/admission.ts) and the web tier's request slots
// (server/http/request-slots.ts), whose limit is a knob that can change while requests wait.
export class Slots {
  #inUse = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly limit: () => number,
    private readonly waitMs: () => number,
  ) {}

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** True with a slot held (give it back with release()); false when none came free in time, or the
   * waiter gave up (`signal`: a client that went away leaves the line). */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#waiting.length === 0 && this.#inUse < this.limit()) {
      this.#inUse++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", leave);
        this.#waiting.splice(this.#waiting.indexOf(admit), 1);
        resolve(false);
      };
      const admit = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", leave);
        this.#inUse++;
        resolve(true);
      };
      const timer = setTimeout(leave, this.waitMs());
      signal?.addEventListener("abort", leave, { once: true });
      this.#waiting.push(admit);
    });
  }

  release(): void {
    this.#inUse--;
    this.admitWaiting();
  }

  /** Lets the longest waiters in while there is room: after a release, or when the limit grew. */
  admitWaiting(): void {
    while (this.#inUse < this.limit()) {
      const next = this.#waiting.shift();
      if (!next) return;
      next();
    }
  }
}
