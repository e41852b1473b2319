// /checkout: the moment this whole shop is about, the Purchase button.
import type { Metadata } from "next";
import { CheckoutView } from "../_components/CheckoutView";

export const metadata: Metadata = { title: "Checkout" };

export default function CheckoutPage() {
  return (
    <>
      <h1 className="page-title">Checkout</h1>
      <CheckoutView />
    </>
  );
}
