// The JSON the findings table carries for the page's script (in `<script type="application/json" id="data">`):
// one entry per rendered row. Types only, so the browser script can import it without pulling in server code.

/** One findings-table row: `i` is its server order, `keys` the values its columns sort by (null sorts last). */
export interface RowData {
  i: number;
  id: string;
  sev: string;
  sub: string;
  /** The finding's rule id (the rule filter). */
  rule: string;
  owners: string[];
  text: string;
  keys: Record<string, string | number | null>;
}
