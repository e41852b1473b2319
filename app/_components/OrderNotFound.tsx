// Shown for an order id that does not exist or belongs to another browser session: the two are
// deliberately indistinguishable.
import Link from "next/link";

export function OrderNotFound() {
  return (
    <div className="empty-state card">
      <h1>Order not found</h1>
      <p>
        There is no order with this address in this browser. Orders can only be seen from the browser session
        that placed them.
      </p>
      <Link href="/" className="button button-primary">
        Back to the shop
      </Link>
    </div>
  );
}
