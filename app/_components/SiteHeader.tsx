// The header on every page: the shop, the navigation with the cart's item count, and the
// checkout-mode toggle that decides what the next Purchase waits for.
"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { countItems, useCart } from "../_lib/cart";
import { Logo } from "./Logo";
import { ModeToggle } from "./ModeToggle";
import styles from "./SiteHeader.module.css";

export function SiteHeader() {
  const pathname = usePathname();
  const items = countItems(useCart());
  const current = (href: string) => (pathname === href ? "page" : undefined);

  return (
    <header className={styles.siteHeader}>
      <div className={`container ${styles.headerBar}`}>
        <Link href="/" className={styles.brand}>
          <Logo />
          <span className={styles.brandName}>Slow Morning</span>
          <span className={styles.brandTagline}>coffee, tea &amp; desk things</span>
        </Link>
        <nav aria-label="Main" className={styles.mainNav}>
          <Link href="/" aria-current={current("/")}>
            Shop
          </Link>
          <Link
            href="/cart"
            aria-current={current("/cart")}
            aria-label={`Cart, ${items} ${items === 1 ? "item" : "items"}`}
          >
            Cart <span className="count-pill">{items}</span>
          </Link>
          {/* Not prefetched: /orders and /dev bring the developer pages' stylesheet, which a shop page
              should not load for nothing. */}
          <Link href="/orders" aria-current={current("/orders")} prefetch={false}>
            Orders
          </Link>
          <Link href="/dev" className={styles.navDev} aria-current={current("/dev")} prefetch={false}>
            Developer console
          </Link>
        </nav>
      </div>
      <ModeToggle />
    </header>
  );
}
