// The fault knobs as the console edits them: one query (refreshed, so another tab's change shows up)
// and mutations that send only what changed. Each edit is shown at once (computed with the contract's
// own merge, or the preset's own knobs) and then replaced by the server's answer.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  mergeSettings,
  PRESETS,
  type PresetName,
  type Settings,
  type SettingsPatch,
} from "@/server/contract";
import { useTRPC } from "./trpc";

const SETTINGS_REFRESH_MS = 3000;

export function useDevSettings() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queryKey = trpc.dev.settings.queryKey();
  const settings = useQuery({ ...trpc.dev.settings.queryOptions(), refetchInterval: SETTINGS_REFRESH_MS });

  const store = (next: Settings) => queryClient.setQueryData(queryKey, next);
  /** Synchronous, so a switch never flips back for a render while the request is on its way. A refresh
   * already in flight is dropped: it would land with the knobs as they were. */
  const showNow = (change: (current: Settings) => Settings) => {
    const current = queryClient.getQueryData(queryKey);
    if (current) store(change(current));
    void queryClient.cancelQueries({ queryKey });
  };
  const resync = () => queryClient.invalidateQueries({ queryKey });
  const update = useMutation(trpc.dev.updateSettings.mutationOptions({ onSuccess: store, onError: resync }));
  const preset = useMutation(trpc.dev.applyPreset.mutationOptions({ onSuccess: store, onError: resync }));

  return {
    settings,
    /** Resolves once the server answered (its failure is reported through `error`). */
    update: (patch: SettingsPatch): Promise<void> => {
      showNow((current) => mergeSettings(current, patch));
      return update.mutateAsync(patch).then(
        () => undefined,
        () => undefined,
      );
    },
    applyPreset: (name: PresetName) => {
      showNow((current) => ({ ...current, services: PRESETS[name].services }));
      preset.mutate({ preset: name });
    },
    applying: preset.isPending ? (preset.variables?.preset ?? null) : null,
    error: update.error ?? preset.error,
  };
}
