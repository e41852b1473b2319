// The developer console's API: fault knobs and presets, queues, the dead-letter set, the mailbox.
// Switched off with DEV_TOOLS=off (every procedure then answers FORBIDDEN); with DEV_TOOLS_KEY set,
// locked (UNAUTHORIZED) until this browser has entered the key through `unlock`.
import { z } from "zod";
import { config } from "../../config";
import {
  AppError,
  deadLetterRefInput,
  devToolsKeyInput,
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
import { tryUnlock, unlockSucceeded } from "../../devtools/unlock-guard";
import { getSettings, replaceSettings, updateSettings } from "../../downstream/settings";
import { lockedMessage, unlockCookie } from "../../http/auth/dev-tools";
import { devDoorProcedure, devProcedure, router } from "../init";
import { rushRouter } from "./rush";

export const devRouter = router({
  /** Whether this browser may use the tools ("open": no key needed; "locked": enter it). */
  access: devDoorProcedure.query(({ ctx }) => ({ access: ctx.devTools })),
  unlock: devDoorProcedure.input(devToolsKeyInput).mutation(async ({ input, ctx }) => {
    if (ctx.devTools === "open") return { access: ctx.devTools };
    if (!config.DEV_TOOLS_KEY) throw new AppError("UNAUTHORIZED", lockedMessage());
    const waitMs = await tryUnlock(ctx.client);
    if (waitMs !== null) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `Too many wrong keys from this address: try again in ${retryAfterS} s.`,
        { retryAfterS },
      );
    }
    const cookie = unlockCookie(input.key, { secure: ctx.secure });
    if (!cookie) throw new AppError("UNAUTHORIZED", "That is not the developer tools key.");
    await unlockSucceeded(ctx.client);
    ctx.setCookie(cookie);
    return { access: "unlocked" as const };
  }),

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

  rush: rushRouter,
});
