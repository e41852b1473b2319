// /mailbox: what the simulated email provider sent. A client island behind the
// developer tools' door; the page is a frame.
import type { Metadata } from "next";
import { behindDevToolsGate } from "../_components/console/behindDevToolsGate";
import { Mailbox } from "../_components/console/Mailbox";

export const metadata: Metadata = { title: "Mailbox" };

export default behindDevToolsGate(Mailbox);
