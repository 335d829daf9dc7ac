import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parse, type InfoRecord } from 'csv-parse';
import { ValidationError } from '../errors.js';
import type { ImportRecord, RowError } from './importer.js';

/** A CSV record, flagged when its shape is already wrong (its column count differs from the header's). */
export interface CsvRow extends ImportRecord {
  /** Set when the row cannot be imported whatever the importer thinks of it. */
  malformed?: RowError;
  /** Bytes of the source consumed so far (for progress). */
  bytes: number;
}

export interface CsvSource {
  /** The column names; known once the first row has been asked for (empty for an empty file). */
  header(): string[];
  rows: AsyncGenerator<CsvRow>;
  /** Size of the file when the source is a path. */
  totalBytes?: number;
}

/**
 * Streams a CSV file (or any readable) with a header line into records keyed by column.
 * Values are trimmed, a byte-order mark is ignored, blank lines are skipped, and a row
 * whose column count differs from the header's is passed on flagged rather than failing
 * the whole file. A broken file (an unclosed quote) does fail, but only after every
 * record before the break has been handed out: the parser is fed chunk by chunk and its
 * records collected as they are parsed, so an error never discards records it buffered.
 */
export function openCsv(source: string | Readable): CsvSource {
  let totalBytes: number | undefined;
  let input: Readable;
  if (typeof source === 'string') {
    try {
      totalBytes = fs.statSync(source).size;
    } catch (error) {
      throw new ValidationError(`Cannot read ${source}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    input = fs.createReadStream(source);
  } else {
    input = source;
  }

  let header: string[] = [];
  let bytes = 0;
  const parsed: CsvRow[] = [];
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    relax_column_count: true,
    raw: true,
    columns: (names: string[]) => {
      header = names.map((name) => name.trim());
      const seen = new Set<string>();
      for (const name of header) {
        if (!name) throw new ValidationError('The CSV header has an empty column name');
        if (seen.has(name)) throw new ValidationError(`The CSV header names column "${name}" twice`);
        seen.add(name);
      }
      return header;
    },
    on_record: (output: { record: Record<string, string> }, info: InfoRecord) => {
      const row: CsvRow = { line: startLine(info), record: output.record, bytes };
      if (info.error) row.malformed = { message: `the row has ${info.index} values but the header has ${header.length} columns` };
      parsed.push(row);
      return null;
    },
  });
  // Records are taken in on_record; the readable side stays empty and only needs to flow to finish.
  parser.on('error', () => undefined);
  parser.resume();

  const feed = (chunk: Buffer | string) =>
    new Promise<void>((resolve, reject) => {
      parser.write(chunk, (error) => (error ? reject(error) : resolve()));
    });

  async function* rows(): AsyncGenerator<CsvRow> {
    let failure: unknown;
    try {
      for await (const chunk of input) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        await feed(chunk);
        while (parsed.length) yield parsed.shift()!;
      }
      parser.end();
      await finished(parser);
    } catch (error) {
      failure = error;
    } finally {
      input.destroy();
    }
    while (parsed.length) yield parsed.shift()!;
    if (failure) throw failure instanceof ValidationError ? failure : new ValidationError(`The CSV file cannot be read: ${(failure as Error).message}`);
  }

  return { header: () => header, rows: rows(), totalBytes };
}

/** csv-parse counts the line a record ends on; a quoted value may span lines, and we report where it starts. */
function startLine(info: { lines: number; raw?: string }): number {
  const text = (info.raw ?? '').replace(/^(?:\r?\n)+/, '').replace(/\r?\n$/, '');
  let newlines = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) newlines++;
  return info.lines - newlines;
}
