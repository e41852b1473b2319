// The head of every developer page: what the page is, one paragraph on what it shows, and the links to
// the other developer pages.
import Link from "next/link";
import type { ReactNode } from "react";
import styles from "./ConsoleHeader.module.css";

export interface ConsoleLink {
  href: string;
  title: string;
  text: ReactNode;
  /** Served beside Next.js, not by it: a full page load. */
  external?: boolean;
}

interface Props {
  eyebrow: string;
  title: string;
  /** The paragraph under the title. */
  children: ReactNode;
  links?: readonly ConsoleLink[];
  /** A link back to the developer console, saying in a few words what it holds. */
  back?: string;
}

export function ConsoleHeader({ eyebrow, title, children, links: others = [], back }: Props) {
  const links = back ? [{ href: "/dev", title: "← Developer console", text: back }, ...others] : others;
  return (
    <header className={styles.head}>
      <div>
        <p className="eyebrow">{eyebrow}</p>
        <h1 className="page-title">{title}</h1>
        <p className={`lede ${styles.lede}`}>{children}</p>
      </div>
      {links.length > 0 && (
        <nav aria-label="Developer pages" className={styles.links}>
          {links.map((link) => {
            const content = (
              <>
                <span className={styles.linkTitle}>{link.title}</span>
                <span className={styles.linkText}>{link.text}</span>
              </>
            );
            return link.external ? (
              <a key={link.href} href={link.href} className={styles.link}>
                {content}
              </a>
            ) : (
              <Link key={link.href} href={link.href} className={styles.link}>
                {content}
              </Link>
            );
          })}
        </nav>
      )}
    </header>
  );
}
