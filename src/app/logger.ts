// Structured logs: every line carries the fields of its context (run id, trigger). Sinks: JSON lines to a stream,
// the Functions InvocationContext, or nothing.
export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export type LogSink = (level: "info" | "warn" | "error", message: string, fields: Fields) => void;

export function createLogger(sink: LogSink, base: Fields = {}): Logger {
  return {
    info: (m, f) => sink("info", m, { ...base, ...f }),
    warn: (m, f) => sink("warn", m, { ...base, ...f }),
    error: (m, f) => sink("error", m, { ...base, ...f }),
    child: (f) => createLogger(sink, { ...base, ...f }),
  };
}

export function jsonLineSink(stream: { write(s: string): unknown }): LogSink {
  return (level, message, fields) => stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
}

export const silentLogger: Logger = createLogger(() => undefined);
