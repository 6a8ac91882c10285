// Large report files as pieces of text, so they can be written to Blob storage or a file while they are made,
// never held whole (at 10,000 accounts report.json is about 49 MB of text and report.html about 17 MB).
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { heldList } from "../core/deflatedJson.js";

/** About how long a piece of several array items is made (a few tens of kilobytes: bounded, and few pieces). */
const SLICE_CHARS = 32 * 1024;

/**
 * The text of `JSON.stringify(value, null, 2)`, piece by piece: objects down to `splitDepth` and arrays down to one
 * level deeper are opened, and the items of an opened array that are not opened themselves are made several at a
 * time by JSON.stringify (about `SLICE_CHARS` each; at 100,000 accounts a piece per item, and per field of each
 * finding, was millions of small strings). Joined, the pieces are exactly the one-shot text (a test holds it to that).
 * An array held deflated in an object's place (`holdArrayDeflated`) is read a page at a time, never inflated whole.
 * For plain data (what reports are): a `toJSON` method is honoured where it is, but replacers are not supported.
 */
export function* jsonChunks(value: unknown, splitDepth = 2, depth = 0): Generator<string> {
  if (value === null || typeof value !== "object" || typeof (value as { toJSON?: unknown }).toJSON === "function" || depth > splitDepth || (depth === splitDepth && !Array.isArray(value))) {
    const text = JSON.stringify(value, null, 2);
    yield depth === 0 ? text : text.replaceAll("\n", `\n${"  ".repeat(depth)}`);
    return;
  }
  if (Array.isArray(value)) {
    yield* arrayChunks(value.length, [value], splitDepth, depth);
    return;
  }
  const pad = `\n${"  ".repeat(depth + 1)}`;
  const close = `\n${"  ".repeat(depth)}`;
  let first = true;
  for (const key of Object.keys(value)) {
    const list = heldList(value, key);
    // Read only when it is written: a key held deflated is read a page at a time instead.
    const item: unknown = list ? undefined : (value as Record<string, unknown>)[key];
    // As JSON.stringify: such keys are left out of an object.
    if (!list && (item === undefined || typeof item === "function" || typeof item === "symbol")) continue;
    yield `${first ? "{" : ","}${pad}${JSON.stringify(key)}: `;
    first = false;
    if (list) yield* arrayChunks(list.length, list.pages(), splitDepth, depth + 1);
    else yield* jsonChunks(item, splitDepth, depth + 1);
  }
  yield first ? "{}" : `${close}}`;
}

/** An array of `length` items, given as pages in order, at `depth` (see jsonChunks). */
function* arrayChunks(length: number, pages: Iterable<readonly unknown[]>, splitDepth: number, depth: number): Generator<string> {
  if (length === 0) {
    yield "[]";
    return;
  }
  const pad = `\n${"  ".repeat(depth + 1)}`;
  const close = `\n${"  ".repeat(depth)}`;
  yield "[";
  const indent = "  ".repeat(depth);
  const opened = (item: unknown) => item !== null && typeof item === "object" && typeof (item as { toJSON?: unknown }).toJSON !== "function" && (Array.isArray(item) ? depth + 1 <= splitDepth : depth + 1 < splitDepth);
  let count = 1;
  let first = true;
  for (const page of pages) {
    for (let i = 0; i < page.length; ) {
      const item: unknown = page[i];
      if (opened(item)) {
        yield first ? pad : `,${pad}`;
        first = false;
        yield* jsonChunks(item, splitDepth, depth + 1);
        i++;
        continue;
      }
      // Items that are not opened, several at a time: JSON.stringify of the slice (as an array, so that what JSON
      // cannot hold is null, as in the one-shot text) without its brackets, each line moved in to this depth.
      let end = i + 1;
      while (end < page.length && end - i < count && !opened(page[end])) end++;
      const text = JSON.stringify(page.slice(i, end), null, 2);
      const items = text.slice(2, -2);
      yield `${first ? "\n" : ",\n"}${indent}${depth === 0 ? items : items.replaceAll("\n", `\n${indent}`)}`;
      first = false;
      count = Math.max(1, Math.min(1024, Math.floor((SLICE_CHARS * (end - i)) / Math.max(1, text.length))));
      i = end;
    }
  }
  yield `${close}]`;
}

/**
 * Pieces of text this long at most, when they are joined: below V8's largest object of the young generation (128 KiB,
 * `kMaxRegularHeapObjectSize`; a string of non-Latin-1 text takes two bytes a character). A larger string is made in
 * the large-object space, which only a full collection empties. (Their bytes, up to three a character in UTF-8, are
 * outside the heap, freed when the small buffer object that holds them dies.) At 100,000 accounts the report stage's
 * pieces of 256 K characters left about 50 MB of dead text in the heap until V8 collected: the whole job's peak RSS was
 * 640 MB, against 563 MB before the stage.
 */
export const PIECE_CHARS = 32 * 1024;

/**
 * Joins small pieces into pieces of `size` characters or fewer (fewer, larger writes): a piece is passed on when the
 * next would take it past `size`. A single piece longer than `size` is passed on alone, as it is.
 */
export function* coalesce(pieces: Iterable<string>, size = PIECE_CHARS): Generator<string> {
  let parts: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length > 0 && length + piece.length > size) {
      yield parts.length === 1 ? (parts[0] as string) : parts.join("");
      parts = [];
      length = 0;
    }
    parts.push(piece);
    length += piece.length;
  }
  if (length > 0) yield parts.length === 1 ? (parts[0] as string) : parts.join("");
}

/** Pieces of text as a byte stream (UTF-8), made as the stream is read: for Blob uploads and files. */
export function textStream(pieces: Iterable<string>, size?: number): Readable {
  return Readable.from(
    (function* () {
      for (const piece of coalesce(pieces, size)) yield Buffer.from(piece, "utf8");
    })(),
    { objectMode: false },
  );
}

/** The most bytes of UTF-8 a piece of `PIECE_CHARS` characters takes: three for each UTF-16 unit. */
const PIECE_BYTES = PIECE_CHARS * 3;

/**
 * Gzips pieces of text (joined as `coalesce` joins them) into blocks of `blockBytes` bytes, the last one shorter, and
 * hands each block to `take`, which answers once it is done with the block's bytes. At most two blocks are being taken
 * at once (one while the next is filled). Answers how many blocks were taken: at least one, since an empty text still
 * makes a gzip member.
 *
 * The buffers are reused: two the text is encoded into (each again once the compressor has consumed it) and two
 * blocks (each again once `take` has answered for it), so a block's bytes are valid only until its `take` answers.
 * A stream pipeline made a new buffer for every piece of text and every block (zlib's own output, in pieces of 16 KB,
 * is still new each time, and copied into the blocks). Each is memory outside the heap that V8 frees only when it
 * collects the buffer's small object, many of them only at a full collection. At 100,000 accounts the report stage's
 * buffers rose to 70-80 MB, and that stage set the whole job's peak (docs/benchmarks.md, seventeenth pass).
 *
 * A failure anywhere ends it all, and the first one is thrown as it is: the pieces' own error, the compressor's, or
 * `take`'s. The pieces' iterator is then closed (its `finally` runs), and the blocks already being taken are waited
 * for first: none lands after the failure (a save tried again at once stages blocks of the same ids), and none is in
 * use once this has answered.
 */
export async function gzipBlocks(pieces: Iterable<string>, blockBytes: number, take: (block: Buffer) => Promise<unknown>): Promise<number> {
  if (!Number.isInteger(blockBytes) || blockBytes < 1) throw new RangeError(`A block is a whole number of bytes, at least one, not ${blockBytes}`);
  const gzip = createGzip();
  const taking = new Set<Promise<unknown>>();
  let failure: { error: unknown } | undefined;
  // Rejected on a failure, for the text's loop waiting for zlib to consume a buffer (a write held back when the stream
  // is destroyed never calls back). Raced against every wait: each race leaves a reaction on it until the end (about
  // 20,000 at 100,000 accounts), but waking the loop by hand instead raised the report stage's buffers from 14 to 43 MB
  // in the 10,000-account job (two runs each, docs/benchmarks.md, seventeenth pass), for reasons not found.
  let stop!: (error: unknown) => void;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  stopped.catch(() => undefined);
  const fail = (error: unknown): undefined => {
    if (!failure) {
      failure = { error };
      stop(error);
      gzip.destroy();
    }
    return undefined;
  };

  const encode = async () => {
    const buffers = [Buffer.allocUnsafeSlow(PIECE_BYTES), Buffer.allocUnsafeSlow(PIECE_BYTES)];
    const consumed: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    let turn = 0;
    for (const piece of coalesce(pieces)) {
      const slot = turn++ % 2;
      await Promise.race([consumed[slot], stopped]);
      const buffer = buffers[slot] as Buffer;
      // A piece longer than PIECE_CHARS (coalesce passes one on as it is) is encoded into a buffer of its own.
      const bytes = piece.length <= PIECE_CHARS ? buffer.subarray(0, buffer.write(piece, "utf8")) : Buffer.from(piece, "utf8");
      // The write's callback comes once zlib has consumed the bytes (a failed write also fails the reading below).
      consumed[slot] = new Promise((resolve) => gzip.write(bytes, resolve));
    }
    gzip.end();
  };

  const compress = async () => {
    const spare: Buffer[] = [];
    let block: Buffer = Buffer.allocUnsafeSlow(blockBytes);
    let size = 0;
    let taken = 0;
    const pass = async () => {
      const full = block;
      const done: Promise<unknown> = take(full.subarray(0, size)).then(() => {
        taking.delete(done);
        spare.push(full);
      });
      done.catch(() => undefined);
      taking.add(done);
      taken++;
      if (taking.size >= 2) await Promise.race(taking);
      block = spare.pop() ?? Buffer.allocUnsafeSlow(blockBytes);
      size = 0;
    };
    for await (const chunk of gzip as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const copied = chunk.copy(block, size, offset);
        size += copied;
        offset += copied;
        if (size === blockBytes) await pass();
      }
    }
    if (size > 0 || taken === 0) await pass();
    await Promise.all(taking);
    return taken;
  };

  const [, taken] = await Promise.all([encode().catch(fail), compress().catch(fail)]);
  if (failure) {
    await Promise.allSettled(taking);
    throw failure.error;
  }
  return taken ?? 0;
}
