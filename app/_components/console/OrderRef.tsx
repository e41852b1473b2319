// An order named on a developer page. One placed in this browser session links to its page (not
// prefetched: the dev pages list many); another session's order does not open here, so it is plain
// text that says whose it is, rather than a link to "Order not found".
"use client";

import Link from "next/link";
import { useMyOrderIds } from "../../_lib/useMyOrderIds";
import frame from "./Console.module.css";

export function OrderRef({ orderId, label }: { orderId: string; label: string }) {
  const mine = useMyOrderIds();
  if (mine.has(orderId)) {
    return (
      <Link href={`/orders/${orderId}`} className={frame.orderId} prefetch={false}>
        {label}
      </Link>
    );
  }
  return (
    <span>
      <span className={frame.orderId}>{label}</span> <span className="muted">· from another browser</span>
    </span>
  );
}
