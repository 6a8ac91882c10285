import { describe, expect, it } from "vitest";
import { renderTrend } from "../../../src/render/report/trendChart.js";

describe("the trend: migration progress", () => {
  it("shows pools migrated per day beside open findings when the ledger recorded them, and a dash for days it did not", () => {
    const html = renderTrend([
      { date: "2026-11-20", open: 9, critical: 6, warning: 3 },
      { date: "2026-11-26", open: 7, critical: 4, warning: 3, migrated: 2 },
    ]);
    expect(html).toContain('<th scope="col">Pools migrated</th>');
    expect(html).toContain("<td>2026-11-20</td><td>9</td><td>6</td><td>3</td><td>&mdash;</td>");
    expect(html).toContain("<td>2026-11-26</td><td>7</td><td>4</td><td>3</td><td>2</td>");
    expect(html).toContain('data-migrated="2"');
    expect(html).toMatch(/Pools migrated to Key Vault: 2/);
  });

  it("adds no migration column to a history that never recorded one", () => {
    expect(renderTrend([{ date: "2026-11-26", open: 7, critical: 4, warning: 3 }])).not.toContain("Pools migrated");
  });
});
