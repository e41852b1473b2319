// Counts people read: stock with thousands separators, as "99,999,821 in stock" (the shop's product
// cards and pages), never "99999821 in stock".
import { describe, expect, it } from "vitest";
import { stockText } from "../app/_components/StockLabel";
import { formatCount, formatRate } from "../app/_lib/rush";

describe("counts in words", () => {
  it("puts thousands separators in stock counts", () => {
    expect(stockText(99_999_821)).toBe("99,999,821 in stock");
    expect(stockText(5_000)).toBe("5,000 in stock");
    expect(stockText(3)).toBe("Only 3 left");
    expect(stockText(0)).toBe("Sold out");
  });

  it("and in the Rush hour lab's counts and rates", () => {
    expect(formatCount(12_345.4)).toBe("12,345");
    expect(formatRate(1_234.4)).toBe("1,234/s");
    expect(formatRate(5.84)).toBe("5.8/s");
  });
});
