// The report page's only script: filters and sorts the findings table the server already rendered, and
// opens collapsed sections for printing. The page works without it.
//
// Its compiled text is inlined into the page as `(function reportScript() {...})()` (see inlineAssets.ts), so
// everything it uses must be inside the function body: no imports except types, no module-level values.
// Type-checked with the DOM library by tsconfig.browser.json; the server's tsconfig does not see this folder.
import type { RowData } from "../pageData.js";

export function reportScript(): void {
  const data = document.getElementById("data");
  const tbody = document.querySelector<HTMLTableSectionElement>("#findings-table tbody");
  const bar = document.getElementById("filters");
  const text = document.getElementById("f-text") as HTMLInputElement | null;
  const sev = document.getElementById("f-sev") as HTMLSelectElement | null;
  const sub = document.getElementById("f-sub") as HTMLSelectElement | null;
  const owner = document.getElementById("f-owner") as HTMLSelectElement | null;
  const rule = document.getElementById("f-rule") as HTMLSelectElement | null;
  const count = document.getElementById("f-count");
  const none = document.getElementById("f-none");
  // No findings, no table: nothing to filter.
  if (!data || !tbody || !bar || !text || !sev || !sub || !owner || !rule || !count || !none) return;

  const rowData = (JSON.parse(data.textContent ?? "") as { rows: RowData[] }).rows;
  const rows: { tr: HTMLTableRowElement; d: RowData }[] = [];
  for (const tr of tbody.querySelectorAll<HTMLTableRowElement>("tr[data-row]")) {
    const d = rowData[Number(tr.dataset.row)];
    if (d) rows.push({ tr, d });
  }
  bar.hidden = false;

  const apply = (): void => {
    const terms = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const { tr, d } of rows) {
      const ok =
        terms.every((t) => d.text.includes(t)) &&
        (!sev.value || d.sev === sev.value) &&
        (!sub.value || d.sub === sub.value) &&
        (!owner.value || d.owners.includes(owner.value)) &&
        (!rule.value || d.rule === rule.value);
      tr.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown === rows.length ? `Showing all ${rows.length} findings` : `Showing ${shown} of ${rows.length} findings`;
    none.hidden = shown > 0;
  };
  for (const el of [text, sev, sub, owner, rule]) el.addEventListener("input", apply);

  // Empty values sort last in both directions (±2 is never flipped): a missing expiry is not "earliest".
  const compare = (a: RowData["keys"][string] | undefined, b: RowData["keys"][string] | undefined): number => {
    const ea = a === null || a === undefined || a === "";
    const eb = b === null || b === undefined || b === "";
    if (ea || eb) return ea === eb ? 0 : ea ? 2 : -2;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  };
  for (const btn of document.querySelectorAll<HTMLButtonElement>("#findings-table thead button[data-key]")) {
    btn.addEventListener("click", () => {
      const th = btn.closest("th");
      if (!th) return;
      const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      for (const h of document.querySelectorAll("#findings-table thead th")) h.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", dir);
      const key = btn.dataset.key ?? "";
      const sign = dir === "ascending" ? 1 : -1;
      rows.sort((x, y) => {
        const c = compare(x.d.keys[key], y.d.keys[key]);
        return (Math.abs(c) === 2 ? c : c * sign) || x.d.i - y.d.i;
      });
      for (const r of rows) tbody.appendChild(r.tr);
    });
  }

  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-owner]")) {
    b.hidden = false;
    b.addEventListener("click", () => {
      owner.value = b.dataset.owner ?? "";
      apply();
      document.getElementById("findings")?.scrollIntoView({ behavior: "smooth" });
    });
  }
  // Collapsed sections would print as headings only.
  window.addEventListener("beforeprint", () => {
    for (const d of document.querySelectorAll("details")) d.open = true;
  });
  apply();
}
