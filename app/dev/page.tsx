// /dev: the developer console (fault knobs, queues, dead letters). A client island behind the
// developer tools' door; the page is a frame.
import type { Metadata } from "next";
import { DevConsole } from "../_components/console/DevConsole";
import { DevToolsGate } from "../_components/console/DevToolsGate";

export const metadata: Metadata = { title: "Developer console" };

export default function DevPage() {
  return (
    <DevToolsGate>
      <DevConsole />
    </DevToolsGate>
  );
}
