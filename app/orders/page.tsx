// /orders: this browser's recent orders compared by checkout mode. A client island; the page is a frame.
import type { Metadata } from "next";
import { OrdersComparison } from "../_components/console/OrdersComparison";

export const metadata: Metadata = { title: "Your orders, compared" };

export default function OrdersPage() {
  return <OrdersComparison />;
}
