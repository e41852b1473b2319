// The shop's own capacity: request slots in the web tier ("like a thread pool", off by default) and
// consumers per queue in every worker process. The experiments set these themselves; a run by hand
// uses whatever is set here.
"use client";

import {
  mergeShopCapacity,
  REQUEST_SLOT_WAIT_MS,
  type Settings,
  type SettingsPatch,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
} from "@/server/contract";
import { queueLabel } from "../../_lib/rush";
import { useOptimisticKnob } from "../../_lib/useOptimisticKnob";
import styles from "./Rush.module.css";

const SLOT_CHOICES = [0, 4, 8, 16, 32, 64, 128];
const CONSUMER_CHOICES = [1, 2, 4, 8, 16, 32, 64];

interface Props {
  shop: Settings["shop"];
  /** Worker processes alive now (each runs this many consumers per queue). */
  workerProcesses: number | null;
  /** Resolves once the server answered; until then the choice is shown as made. */
  onChange: (patch: SettingsPatch) => Promise<void>;
}

export function CapacityKnobs({ shop: saved, workerProcesses, onChange }: Props) {
  const [shop, change] = useOptimisticKnob(saved, mergeShopCapacity, (patch: SettingsPatch["shop"]) =>
    onChange({ shop: patch }),
  );
  const setConsumers = (step: SideEffectStep, value: string) =>
    change({ consumers: { [step]: value === "" ? null : Number(value) } });
  return (
    <section className={`card ${styles.section}`} aria-labelledby="capacity-title">
      <h2 id="capacity-title">The shop&apos;s own capacity</h2>
      <div className={styles.knobs}>
        <div className={styles.knob}>
          <label className={styles.knobName} htmlFor="request-slots">
            Request slots in the web tier
          </label>
          <select
            id="request-slots"
            aria-describedby="request-slots-explains"
            value={shop.requestSlots}
            onChange={(event) => change({ requestSlots: Number(event.target.value) })}
          >
            {SLOT_CHOICES.map((slots) => (
              <option key={slots} value={slots}>
                {slots === 0 ? "Off (no limit)" : `${slots} slots`}
              </option>
            ))}
          </select>
          <span className="hint" id="request-slots-explains">
            Like a thread pool: each request holds a slot until it is answered; when all are taken, the next
            ones wait up to {REQUEST_SLOT_WAIT_MS / 1000} s and are then refused (503). Off, Node serves every
            request at once. The developer tools never wait.
          </span>
        </div>
        <fieldset className={styles.knob}>
          <legend className={styles.knobName}>Consumers per queue, in each worker process</legend>
          <div className={styles.consumers}>
            {SIDE_EFFECT_STEPS.map((step) => (
              <label key={step} className={styles.consumer}>
                <span>{queueLabel(step)}</span>
                <select
                  value={shop.consumers[step] ?? ""}
                  onChange={(event) => setConsumers(step, event.target.value)}
                >
                  <option value="">Default</option>
                  {CONSUMER_CHOICES.map((count) => (
                    <option key={count} value={count}>
                      {count}
                    </option>
                  ))}
                </select>
              </label>
            ))}
          </div>
          <span className="hint">
            Jobs a worker process takes from each queue at once; Default is its WORKER_CONCURRENCY.{" "}
            {workerProcesses === null
              ? ""
              : `${workerProcesses} worker process${workerProcesses === 1 ? "" : "es"} running now`}
            {workerProcesses === null ? "" : "; start more with npm run start:worker."}
          </span>
        </fieldset>
      </div>
    </section>
  );
}
