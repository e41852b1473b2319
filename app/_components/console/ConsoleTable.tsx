// A console table: one header row, and a scroller of its own, so a table wider than a phone scrolls
// sideways instead of crushing its columns.
import type { ReactNode } from "react";
import frame from "./Console.module.css";

interface Props {
  className: string;
  /** The header row's cells. */
  head: ReactNode;
  /** The body's rows. */
  children: ReactNode;
}

export function ConsoleTable({ className, head, children }: Props) {
  return (
    <div className={frame.tableScroll}>
      <table className={className}>
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
