// /dev/rush: the Rush hour lab. A client island behind the developer tools' door, like /dev.
import type { Metadata } from "next";
import { DevToolsGate } from "../../_components/console/DevToolsGate";
import { RushHour } from "../../_components/rush/RushHour";

export const metadata: Metadata = { title: "Rush hour" };

export default function RushPage() {
  return (
    <DevToolsGate>
      <RushHour />
    </DevToolsGate>
  );
}
