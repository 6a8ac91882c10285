// Open findings over time: an SVG column chart drawn on the server, with its data as a table for screen readers.
import { escapeHtml } from "../escapeHtml.js";
import { formatNumber, shortDate } from "../format.js";
import type { HistoryPoint } from "./reportExtras.js";

/** Tick step from 1-2-5 series so the y axis has at most ~5 round labels. */
function niceStep(max: number): number {
  if (max <= 5) return 1;
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

const r1 = (n: number): string => String(Math.round(n * 10) / 10);

/**
 * One drawing of the chart. SVG text scales with the drawing, so a 760-unit drawing squeezed onto a 390 px phone
 * draws 12px labels at 6 px: the page carries a narrow drawing as well (`.chart-narrow`, shown by the stylesheet below
 * 600 px), about as wide in units as the phone is in pixels, with fewer labels.
 */
export interface ChartLayout {
  width: number;
  /** Appended to the element ids (each drawing has its own title and description). */
  idSuffix: string;
  className: string;
  /** At most this many date labels under the columns. */
  maxLabels: number;
  /** Value labels above every column up to this many columns (else above the last only). */
  maxValues: number;
}

export const WIDE_CHART: ChartLayout = { width: 760, idSuffix: "", className: "chart chart-wide", maxLabels: 8, maxValues: 16 };
export const NARROW_CHART: ChartLayout = { width: 360, idSuffix: "-narrow", className: "chart chart-narrow", maxLabels: 4, maxValues: 8 };

/** Stacked columns (critical below warning), one per history entry, oldest on the left. */
export function renderHistoryChart(history: HistoryPoint[], layout: ChartLayout = WIDE_CHART): string {
  const points = [...history].sort((a, b) => a.date.localeCompare(b.date));
  const W = layout.width;
  const H = 280;
  const id = (name: string): string => `${name}${layout.idSuffix}`;
  if (points.length === 0) {
    return `<svg class="${layout.className}" id="${id("history-chart")}" data-points="0" viewBox="0 0 ${W} 120" role="img" aria-labelledby="${id("chart-title")}">
<title id="${id("chart-title")}">Open findings over time: no history yet</title>
<text class="msg" x="${W / 2}" y="64" text-anchor="middle">No history yet &mdash; the chart fills in as runs accumulate.</text></svg>`;
  }
  const left = 44;
  const right = 12;
  const top = 22;
  const bottom = 34;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const maxVal = Math.max(1, ...points.map((p) => Math.max(p.open, p.critical + p.warning)));
  const step = niceStep(maxVal);
  const yMax = Math.ceil(maxVal / step) * step;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const band = plotW / points.length;
  const barW = Math.max(2, Math.min(44, band * 0.62));
  const labelEvery = Math.max(1, Math.ceil(points.length / layout.maxLabels));
  const showValues = points.length <= layout.maxValues;

  const grid: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${r1(y(v))}" y2="${r1(y(v))}"/>`);
    grid.push(`<text class="axis" x="${left - 8}" y="${r1(y(v) + 4)}" text-anchor="end">${formatNumber(v)}</text>`);
  }
  const cols = points.map((p, i) => {
    const cx = left + band * i + band / 2;
    const x = r1(cx - barW / 2);
    const crit = Math.max(0, p.critical);
    const warn = Math.max(0, p.warning);
    const hC = (crit / yMax) * plotH;
    const hW = (warn / yMax) * plotH;
    const base = top + plotH;
    const label = `${p.date}: ${formatNumber(p.open)} open (${formatNumber(crit)} critical, ${formatNumber(warn)} warning)${p.migrated === undefined ? "" : `; ${formatNumber(p.migrated)} pools migrated`}`;
    const parts = [
      `<title>${escapeHtml(label)}</title>`,
      crit + warn === 0 ? `<rect class="z" x="${x}" y="${r1(base - 2)}" width="${r1(barW)}" height="2"/>` : "",
      hC > 0 ? `<rect class="c" x="${x}" y="${r1(base - hC)}" width="${r1(barW)}" height="${r1(hC)}"/>` : "",
      hW > 0 ? `<rect class="w" x="${x}" y="${r1(base - hC - hW)}" width="${r1(barW)}" height="${r1(hW)}"/>` : "",
      showValues || i === points.length - 1
        ? `<text class="val" x="${r1(cx)}" y="${r1(y(Math.max(p.open, crit + warn)) - 6)}" text-anchor="middle">${formatNumber(p.open)}</text>`
        : "",
      i % labelEvery === 0 || i === points.length - 1
        ? `<text class="axis" x="${r1(cx)}" y="${H - 12}" text-anchor="middle">${escapeHtml(shortDate(p.date))}</text>`
        : "",
    ];
    return `<g class="pt" data-date="${escapeHtml(p.date)}" data-open="${p.open}" data-critical="${crit}" data-warning="${warn}"${p.migrated === undefined ? "" : ` data-migrated="${p.migrated}"`}>${parts.join("")}</g>`;
  });
  const first = points[0];
  const last = points[points.length - 1];
  const desc =
    first && last
      ? points.length === 1
        ? `One run so far, on ${first.date}: ${formatNumber(last.open)} open (${formatNumber(last.critical)} critical, ${formatNumber(last.warning)} warning).`
        : `${formatNumber(points.length)} runs from ${first.date} to ${last.date}: open findings went from ${formatNumber(first.open)} to ${formatNumber(last.open)}; now ${formatNumber(last.critical)} critical and ${formatNumber(last.warning)} warning.`
      : "";
  return `<svg class="${layout.className}" id="${id("history-chart")}" data-points="${points.length}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id("chart-title")} ${id("chart-desc")}">
<title id="${id("chart-title")}">Open findings over time, critical and warning stacked</title>
<desc id="${id("chart-desc")}">${escapeHtml(desc)}</desc>
${grid.join("")}
<line class="grid" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"/>
${cols.join("\n")}
</svg>`;
}

export function renderTrend(history: HistoryPoint[]): string {
  const points = [...history].sort((a, b) => a.date.localeCompare(b.date));
  // Migration progress: pools on the Key Vault extension per day, where the ledger recorded it.
  const migrated = points.some((p) => p.migrated !== undefined);
  const table = points.length
    ? `<details class="data"><summary>Chart data</summary><div class="table-scroll"><table><thead><tr><th scope="col">Date</th><th scope="col">Open</th><th scope="col">Critical</th><th scope="col">Warning</th>${migrated ? `<th scope="col">Pools migrated</th>` : ""}</tr></thead><tbody>${points
        .map(
          (p) =>
            `<tr><td>${escapeHtml(p.date)}</td><td>${formatNumber(p.open)}</td><td>${formatNumber(p.critical)}</td><td>${formatNumber(p.warning)}</td>${migrated ? `<td>${p.migrated === undefined ? "&mdash;" : formatNumber(p.migrated)}</td>` : ""}</tr>`,
        )
        .join("")}</tbody></table></div></details>`
    : "";
  const last = points[points.length - 1];
  return `<section id="trend" class="card" aria-labelledby="trend-h">
<h2 id="trend-h">Open findings over time</h2>
${renderHistoryChart(history)}
${renderHistoryChart(history, NARROW_CHART)}
${points.length ? `<p class="legend"><span><span class="sw sw-c"></span>Critical</span><span><span class="sw sw-w"></span>Warning</span><span>Numbers above columns: open findings</span>${last?.migrated !== undefined ? `<span id="trend-migrated">Pools migrated to Key Vault: ${formatNumber(last.migrated)}</span>` : ""}</p>` : ""}
${table}
</section>`;
}
