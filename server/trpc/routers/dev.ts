// The developer console's API: fault knobs and presets, queues, the dead-letter set, the mailbox.
// Switched off with DEV_TOOLS=off (every procedure then answers FORBIDDEN).
import { z } from "zod";
import {
  deadLetterRefInput,
  PRESETS,
  presetNameSchema,
  queueRefInput,
  settingsPatchSchema,
} from "../../contract";
import { mailbox } from "../../devtools/mailbox";
import {
  deadLetters,
  discardDeadLetter,
  queueSummaries,
  retryDeadLetters,
  setPaused,
} from "../../devtools/queues";
import { getSettings, replaceSettings, updateSettings } from "../../downstream/settings";
import { devProcedure, router } from "../init";

export const devRouter = router({
  settings: devProcedure.query(() => getSettings()),
  updateSettings: devProcedure.input(settingsPatchSchema).mutation(({ input }) => updateSettings(input)),
  applyPreset: devProcedure.input(z.object({ preset: presetNameSchema })).mutation(async ({ input }) => {
    const current = await getSettings();
    return replaceSettings({ ...current, services: PRESETS[input.preset].services });
  }),

  queues: devProcedure.query(() => queueSummaries()),
  pauseQueue: devProcedure.input(queueRefInput).mutation(({ input }) => setPaused(input.queue, true)),
  resumeQueue: devProcedure.input(queueRefInput).mutation(({ input }) => setPaused(input.queue, false)),

  deadLetters: devProcedure.query(() => deadLetters()),
  retryDeadLetter: devProcedure
    .input(deadLetterRefInput)
    .mutation(({ input }) => retryDeadLetters(input.queue, input.jobId)),
  retryAllDeadLetters: devProcedure.mutation(() => retryDeadLetters(null, null)),
  discardDeadLetter: devProcedure
    .input(deadLetterRefInput)
    .mutation(({ input }) => discardDeadLetter(input.queue, input.jobId)),

  mailbox: devProcedure.query(() => mailbox()),
});
