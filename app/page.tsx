// The shop's front page: a short welcome and the catalog.
import { Catalog } from "./_components/Catalog";
import styles from "./page.module.css";

export default function ShopPage() {
  return (
    <>
      <section className={styles.hero}>
        <h1>Good things for slow mornings</h1>
        <p className="lede">
          Cups, coffee, tea and a few desk things. Every purchase is also a small experiment: pick a checkout
          mode above, buy something, and the order page shows exactly what your request waited for.
        </p>
      </section>
      <Catalog />
    </>
  );
}
