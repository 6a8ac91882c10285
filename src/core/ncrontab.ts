// The Functions timer's NCRONTAB (six fields, seconds first, UTC): enough of it to say when a schedule fires next, so
// the outbox can tell when, at the current limits, every owner will have been told. Pure: the caller passes times.
// Fields as Learn documents them ("Timer trigger for Azure Functions", NCRONTAB expressions): `*`, values, ranges
// (`1-5`), lists (`1,3`), steps (`*/15`, `5-50/15`), and English month and weekday names (`Jan`, `Mon`).
// Day of month and day of week must both match (NCrontab's rule, which the Functions host uses).

export interface Ncrontab {
  /** The first firing strictly after `after`; undefined if none within five years (e.g. 30 February). */
  next(after: Date): Date | undefined;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day of week", min: 0, max: 6, names: DAYS, nameBase: 0 },
] as const;

/** Parses an NCRONTAB expression; throws a RangeError saying what is wrong. */
export function parseNcrontab(expression: string): Ncrontab {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) throw new RangeError(`must be an NCRONTAB expression with six fields (seconds first), got ${parts.length}`);
  const [seconds, minutes, hours, days, months, weekdays] = FIELDS.map((field, i) => parseField(parts[i] ?? "", field));
  const match = { seconds, minutes, hours, days, months, weekdays } as Record<string, Set<number>>;
  return {
    next(after: Date): Date | undefined {
      const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
      const firstDay = Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth(), new Date(start).getUTCDate());
      for (let d = 0; d < 366 * 5; d++) {
        const day = new Date(firstDay + d * 86_400_000);
        if (!match.months?.has(day.getUTCMonth() + 1) || !match.days?.has(day.getUTCDate()) || !match.weekdays?.has(day.getUTCDay())) continue;
        for (const h of sorted(match.hours)) {
          for (const m of sorted(match.minutes)) {
            for (const s of sorted(match.seconds)) {
              const at = day.getTime() + ((h * 60 + m) * 60 + s) * 1000;
              if (at >= start) return new Date(at);
            }
          }
        }
      }
      return undefined;
    },
  };
}

function sorted(set: Set<number> | undefined): number[] {
  return [...(set ?? [])].sort((a, b) => a - b);
}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = "names" in field ? (field.names as readonly string[]).indexOf(token.toLowerCase().slice(0, 3)) : -1;
    const n = named >= 0 && /^[a-z]{3,}$/i.test(token) && "nameBase" in field ? named + field.nameBase : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (Number.isNaN(n) || n < field.min || n > field.max) throw new RangeError(`${field.name} field "${text}": "${token}" is not from ${field.min} to ${field.max}`);
    return n;
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new RangeError(`${field.name} field "${text}": step "${stepText}" is not a whole number above 0`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = field.min;
      to = field.max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      from = value(a);
      to = value(b);
      if (to < from) throw new RangeError(`${field.name} field "${text}": range "${range}" runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : field.max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}
