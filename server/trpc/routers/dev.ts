import { settingsPatchSchema } from "../../contract";
import { getSettings, updateSettings } from "../../downstream/settings";
import { devProcedure, router } from "../init";

export const devRouter = router({
  settings: devProcedure.query(() => getSettings()),
  updateSettings: devProcedure.input(settingsPatchSchema).mutation(({ input }) => updateSettings(input)),
});
