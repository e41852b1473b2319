// /dev/rush: the Rush hour lab. A client island behind the developer tools' door, like /dev.
import type { Metadata } from "next";
import { behindDevToolsGate } from "../../_components/console/behindDevToolsGate";
import { RushHour } from "../../_components/rush/RushHour";

export const metadata: Metadata = { title: "Rush hour" };

export default behindDevToolsGate(RushHour);
