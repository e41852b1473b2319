// The developer console's own inputs besides the knobs: the key that unlocks it on a shared network.
import { z } from "zod";
import { plainText } from "./text";

export const devToolsKeyInput = z.object({ key: plainText("key").min(1, "enter the key").max(200) });
