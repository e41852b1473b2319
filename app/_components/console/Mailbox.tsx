// The simulated email provider's sent mail, newest first, refreshed every two seconds. The provider
// deduplicates by order and kind, so however often a job runs, each order shows one receipt here (and
// one cancellation, when the order was undone after its receipt went out).
"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { formatClock } from "../../_lib/console";
import { useTRPC } from "../../_lib/trpc";
import frame from "./Console.module.css";
import { ConsoleHeader } from "./ConsoleHeader";
import styles from "./Mailbox.module.css";
import { OrderRef } from "./OrderRef";
import { QueryProblem } from "./QueryProblem";

const REFRESH_MS = 2000;
/** dev.mailbox answers with at most this many, newest first. */
const MAILBOX_LIMIT = 50;

export function Mailbox() {
  const trpc = useTRPC();
  const mail = useQuery({ ...trpc.dev.mailbox.queryOptions(), refetchInterval: REFRESH_MS });
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [filter, setFilter] = useState("");
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const needle = filter.trim().toLowerCase();
  const emails = (mail.data ?? []).filter(
    (email) => needle === "" || `${email.to} ${email.subject}`.toLowerCase().includes(needle),
  );

  return (
    <div className={frame.console}>
      <ConsoleHeader eyebrow="Simulated email provider" title="Mailbox" back="Knobs, queues and dead letters">
        Every email the shop sent, as the provider recorded it: receipts, and the cancellation that follows
        one when an order is cancelled after its receipt went out. A retried job does not send twice: the
        provider deduplicates on the order, so each order has at most one of each.
      </ConsoleHeader>

      <section className={`card ${frame.section}`} aria-labelledby="mailbox-title">
        <div className={frame.sectionHead}>
          <h2 id="mailbox-title">
            Sent mail{" "}
            {mail.data && (
              <span className={`muted ${styles.mailCount}`}>
                ·{" "}
                {mail.data.length === MAILBOX_LIMIT ? `latest ${MAILBOX_LIMIT}` : `${mail.data.length} sent`}
              </span>
            )}
          </h2>
          <label className={styles.mailFilter}>
            <span className="visually-hidden">Filter by address or subject</span>
            <input
              type="search"
              placeholder="Filter by address or subject"
              value={filter}
              onChange={(event) => setFilter(event.target.value)}
            />
          </label>
        </div>
        {mail.isError && <QueryProblem error={mail.error} what="the mailbox" />}
        {mail.isPending ? (
          <p className="muted">Loading the mailbox…</p>
        ) : emails.length === 0 ? (
          <div className={frame.empty}>
            <p className={frame.emptyTitle}>{needle ? "No matching mail" : "No mail sent yet"}</p>
            <p>
              {needle
                ? "Nothing sent to that address or with that subject among the most recent mail."
                : "Place an order: its receipt appears here when the email step succeeds. In async mode that is a moment after the order is confirmed; during an email outage, only once the step is retried."}
            </p>
          </div>
        ) : (
          <ul className={styles.mailList} aria-label="Sent mail">
            {emails.map((email) => {
              const expanded = open.has(email.id);
              const bodyId = `mail-${email.id}`;
              return (
                <li key={email.id} className={styles.mail} aria-label={`Email to ${email.to}`}>
                  <div className={styles.mailHead}>
                    <button
                      type="button"
                      className={styles.mailToggle}
                      aria-expanded={expanded}
                      aria-controls={bodyId}
                      onClick={() => toggle(email.id)}
                    >
                      <span className={styles.mailChevron} aria-hidden="true">
                        {expanded ? "▾" : "▸"}
                      </span>
                      <span className={styles.mailSubject}>{email.subject}</span>
                      <span className={styles.mailTo}>to {email.to}</span>
                    </button>
                    <span className={styles.mailMeta}>
                      <time className="tabular" dateTime={email.sentAt}>
                        {formatClock(email.sentAt)}
                      </time>
                      <OrderRef orderId={email.orderId} label={`Order ${email.orderId.slice(0, 8)}`} />
                    </span>
                  </div>
                  <pre id={bodyId} className={styles.mailBody} hidden={!expanded}>
                    {email.text}
                  </pre>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}
