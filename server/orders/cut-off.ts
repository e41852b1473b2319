// Side effects left `running` by a runner that is gone: a checkout that broke off (the sweeper finds
// them) or a worker that died mid-call on an order undone meanwhile (the job's redelivery finds them).
// Nobody will finish them, so each is recorded as its provider's ledger has it: done, with the time the
// provider did it (an effect that landed on an undone order then owes its correction, like any other),
// or cut off, as far as anyone can tell, now. Only while still running, in the caller's statement.
import type { OrderView, SideEffectStep, StepName } from "../contract";
import { providerRecordedAt } from "../downstream/simulate";
import { EFFECT_CALLS } from "../steps";
import type { StepChange } from "./change";

/** How the record reads: the step's detail when the provider had done it, its error when not. */
export interface CutOffWords {
  done: string;
  cutOff: string;
}

/** Of `among`, the steps `order` has running, each recorded as its provider has it. */
export async function cutOffSteps(
  order: OrderView,
  among: readonly SideEffectStep[],
  words: CutOffWords,
): Promise<Partial<Record<StepName, StepChange>>> {
  const names = among.filter((name) =>
    order.steps.some((step) => step.name === name && step.status === "running"),
  );
  const doneAt = await providerRecordedAt(names.map((name) => EFFECT_CALLS[name](order.id)));
  const now = new Date();
  const changes = names.map((name, index): [StepName, StepChange] => {
    const done = doneAt[index];
    const change: StepChange = done
      ? {
          status: "succeeded",
          finishedAt: done,
          detail: words.done,
          endAttempt: { outcome: "succeeded", finishedAt: done, error: null },
        }
      : {
          status: "skipped",
          finishedAt: now,
          detail: null,
          endAttempt: { outcome: "failed", finishedAt: now, error: words.cutOff },
        };
    return [name, { ...change, error: null, onlyFrom: ["running"] }];
  });
  return Object.fromEntries(changes);
}
