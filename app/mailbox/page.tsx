// /mailbox: what the simulated email provider sent. A client island behind the
// developer tools' door; the page is a frame.
import type { Metadata } from "next";
import { DevToolsGate } from "../_components/console/DevToolsGate";
import { Mailbox } from "../_components/console/Mailbox";

export const metadata: Metadata = { title: "Mailbox" };

export default function MailboxPage() {
  return (
    <DevToolsGate>
      <Mailbox />
    </DevToolsGate>
  );
}
