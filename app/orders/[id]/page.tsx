// /orders/<id>: an order and the story of its steps. Next 16 hands `params` over as a Promise.
import type { Metadata } from "next";
import { OrderDetails } from "../../_components/OrderDetails";

export const metadata: Metadata = { title: "Your order" };

export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <OrderDetails orderId={id} />;
}
