import styles from "./StockLabel.module.css";
// Live stock in words: plenty, a few left, or sold out.
export function stockText(stock: number): string {
  if (stock <= 0) return "Sold out";
  if (stock <= 5) return `Only ${stock} left`;
  return `${stock.toLocaleString("en")} in stock`;
}

export function StockLabel({ stock }: { stock: number }) {
  const level = stock <= 0 ? "out" : stock <= 5 ? "low" : "ok";
  return (
    <span className={styles.stock} data-level={level}>
      {stockText(stock)}
    </span>
  );
}
