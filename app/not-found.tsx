// Any address the shop does not know.
import Link from "next/link";

export default function NotFound() {
  return (
    <div className="empty-state card">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link href="/" className="button button-primary">
        Back to the shop
      </Link>
    </div>
  );
}
