// The order's status as a coloured badge with words (never colour alone).
import type { OrderStatus } from "@/server/contract";
import { ORDER_STATUS_LABELS } from "../_lib/labels";
import styles from "./OrderStatusBadge.module.css";

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return (
    <span className={styles.badge} data-status={status}>
      {ORDER_STATUS_LABELS[status]}
    </span>
  );
}
