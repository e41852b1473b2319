// The footer: what this shop is, in one honest sentence.
import styles from "./SiteFooter.module.css";

export function SiteFooter() {
  return (
    <footer className={styles.siteFooter}>
      <div className="container">
        <p>
          Slow Morning is a demonstration shop: nothing is really charged or shipped. It exists to show one
          design choice, what a checkout request should wait for.
        </p>
      </div>
    </footer>
  );
}
