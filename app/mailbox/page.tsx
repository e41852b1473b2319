// /mailbox: what the simulated email provider sent. A client island; the page is a frame.
import type { Metadata } from "next";
import { Mailbox } from "../_components/console/Mailbox";
import "../_styles/console.css";

export const metadata: Metadata = { title: "Mailbox" };

export default function MailboxPage() {
  return <Mailbox />;
}
