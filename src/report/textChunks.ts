// Large report files as pieces of text, so they can be written to Blob storage or a file while they are made,
// never held whole (at 10,000 accounts each of report.json and report.html is about 19 MB).
import { Readable } from "node:stream";

/**
 * The text of `JSON.stringify(value, null, 2)`, piece by piece: objects and arrays down to `splitDepth` are opened,
 * everything below is one piece. Joined, the pieces are exactly the one-shot text (a test holds it to that).
 * For plain data (what reports are): a `toJSON` method is honoured where it is, but replacers are not supported.
 */
export function* jsonChunks(value: unknown, splitDepth = 3, depth = 0): Generator<string> {
  if (depth >= splitDepth || value === null || typeof value !== "object" || typeof (value as { toJSON?: unknown }).toJSON === "function") {
    const text = JSON.stringify(value, null, 2);
    yield depth === 0 ? text : text.replaceAll("\n", `\n${"  ".repeat(depth)}`);
    return;
  }
  const pad = `\n${"  ".repeat(depth + 1)}`;
  const close = `\n${"  ".repeat(depth)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    yield "[";
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? pad : `,${pad}`;
      const item: unknown = value[i];
      // As JSON.stringify: what JSON cannot hold is null inside an array.
      yield* jsonChunks(item === undefined || typeof item === "function" || typeof item === "symbol" ? null : item, splitDepth, depth + 1);
    }
    yield `${close}]`;
    return;
  }
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    // As JSON.stringify: such keys are left out of an object.
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    yield `${first ? "{" : ","}${pad}${JSON.stringify(key)}: `;
    first = false;
    yield* jsonChunks(item, splitDepth, depth + 1);
  }
  yield first ? "{}" : `${close}}`;
}

/** Joins small pieces into pieces of at least `size` characters (fewer, larger writes), the last one shorter. */
export function* coalesce(pieces: Iterable<string>, size = 64 * 1024): Generator<string> {
  let parts: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    parts.push(piece);
    length += piece.length;
    if (length >= size) {
      yield parts.join("");
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield parts.join("");
}

/** Pieces of text as a byte stream (UTF-8), made as the stream is read: for Blob uploads and files. */
export function textStream(pieces: Iterable<string>): Readable {
  return Readable.from(
    (function* () {
      for (const piece of coalesce(pieces)) yield Buffer.from(piece, "utf8");
    })(),
    { objectMode: false },
  );
}
