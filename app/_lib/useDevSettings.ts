// The fault knobs as the console edits them: one query (refreshed, so another tab's change shows up)
// and mutations that send only what changed. A control shows its own edit at once (useOptimisticKnob, or
// a number's draft) until the server answered; a preset is shown at once with the preset's own knobs.
// Either way the server's answer replaces it.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { PRESETS, type PresetName, type Settings, type SettingsPatch } from "@/server/contract";
import { useTRPC } from "./trpc";

const SETTINGS_REFRESH_MS = 3000;

export function useDevSettings() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queryKey = trpc.dev.settings.queryKey();
  const settings = useQuery({ ...trpc.dev.settings.queryOptions(), refetchInterval: SETTINGS_REFRESH_MS });

  const store = (next: Settings) => queryClient.setQueryData(queryKey, next);
  /** A refresh already in flight is dropped: it would land with the knobs as they were. */
  const dropRefresh = () => void queryClient.cancelQueries({ queryKey });
  const resync = () => queryClient.invalidateQueries({ queryKey });
  const update = useMutation(trpc.dev.updateSettings.mutationOptions({ onSuccess: store, onError: resync }));
  const preset = useMutation(trpc.dev.applyPreset.mutationOptions({ onSuccess: store, onError: resync }));

  return {
    settings,
    /** Resolves once the server answered (its failure is reported through `error`). */
    update: (patch: SettingsPatch): Promise<void> => {
      dropRefresh();
      return update.mutateAsync(patch).then(
        () => undefined,
        () => undefined,
      );
    },
    applyPreset: (name: PresetName) => {
      const current = queryClient.getQueryData(queryKey);
      if (current) store({ ...current, services: PRESETS[name].services });
      dropRefresh();
      preset.mutate({ preset: name });
    },
    applying: preset.isPending ? (preset.variables?.preset ?? null) : null,
    error: update.error ?? preset.error,
  };
}
