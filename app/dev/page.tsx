// /dev: the developer console (fault knobs, queues, dead letters). A client island behind the
// developer tools' door; the page is a frame.
import type { Metadata } from "next";
import { behindDevToolsGate } from "../_components/console/behindDevToolsGate";
import { DevConsole } from "../_components/console/DevConsole";

export const metadata: Metadata = { title: "Developer console" };

export default behindDevToolsGate(DevConsole);
