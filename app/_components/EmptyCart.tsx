// What the cart and the checkout show when there is nothing to buy: why, and the way back to the shop.
import Link from "next/link";

export function EmptyCart({ reason }: { reason: string }) {
  return (
    <div className="empty-state card">
      <h2>Your cart is empty</h2>
      <p>{reason}</p>
      <Link href="/" className="button button-primary">
        Browse the shop
      </Link>
    </div>
  );
}
