// The Rush hour lab's API (dev.rush.*): start a load run or an experiment, follow it, stop it, and
// read saved runs to compare. Behind the developer tools' door like the rest of dev.*.
import { z } from "zod";
import { compareRunsInput, experimentNameSchema, loadRequestSchema } from "../../contract";
import {
  restockForRush,
  rushState,
  startExperiment,
  startRun,
  stopRun,
  workerProcesses,
} from "../../rush/manager";
import { savedRuns, savedRunsById } from "../../rush/saved";
import { devProcedure, router } from "../init";

export const rushRouter = router({
  state: devProcedure.query(async () => ({ ...rushState(), workerProcesses: await workerProcesses() })),
  start: devProcedure
    .input(z.object({ load: loadRequestSchema }))
    .mutation(({ input }) => startRun(input.load)),
  startExperiment: devProcedure
    .input(z.object({ experiment: experimentNameSchema }))
    .mutation(({ input }) => startExperiment(input.experiment)),
  stop: devProcedure.mutation(() => ({ stopped: stopRun() })),
  /** Tops every product up to RUSH_STOCK, as each run of the lab does first (`npm run load -- --restock`). */
  restock: devProcedure.mutation(async () => ({ restocked: await restockForRush() })),
  runs: devProcedure.query(() => savedRuns()),
  compare: devProcedure.input(compareRunsInput).query(({ input }) => savedRunsById(input.runIds)),
});
