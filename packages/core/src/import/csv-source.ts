import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Papa from 'papaparse';
import { lazyModule } from '../util/lazy-module.js';

const papaparse = lazyModule<typeof Papa>('papaparse');
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
 * Longest record accepted. A record is only complete once its quotes close, so an
 * unclosed quote would otherwise hold the rest of the file (and re-read it at every chunk).
 */
export const MAX_RECORD_CHARS = 4 * 1024 * 1024;

/**
 * Streams a CSV file (or any readable) with a header line into records keyed by column.
 * Values are trimmed, a byte-order mark is ignored, blank lines (and rows of empty values)
 * are skipped, and a row whose column count differs from the header's, or whose quotes
 * are malformed, is passed on flagged rather than failing the whole file. A quote that is
 * never closed does fail, but only after every record before it has been handed out.
 *
 * Parsing is papaparse's (a chunk without quotes is split natively, several times faster
 * than a character-by-character parser); this module feeds it decoded text chunk by chunk,
 * holding back the last, possibly partial, record, and counts lines so every record is
 * reported with the line it starts on.
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

  let header: string[] | undefined;
  let bytes = 0;
  const decoder = new StringDecoder('utf8');
  const text = new CsvText();

  function* records(rows: string[][], errors: Papa.ParseError[]): Generator<CsvRow> {
    const invalidQuotes = new Map(errors.filter((e) => e.code === 'InvalidQuotes' && e.row !== undefined).map((e) => [e.row!, e.message]));
    for (let index = 0; index < rows.length; index++) {
      const cells = rows[index];
      const line = text.startLineOf(cells);
      for (let i = 0; i < cells.length; i++) cells[i] = cells[i].trim();
      if (cells.every((cell) => cell === '')) continue;
      if (!header) {
        header = checkHeader(cells);
        continue;
      }
      const record: Record<string, string> = {};
      const width = Math.min(cells.length, header.length);
      for (let i = 0; i < width; i++) record[header[i]] = cells[i];
      const row: CsvRow = { line, record, bytes };
      const quoteProblem = invalidQuotes.get(index);
      if (quoteProblem) row.malformed = { message: `the row's quotes are malformed (${quoteProblem.toLowerCase()})` };
      else if (cells.length !== header.length) row.malformed = { message: `the row has ${cells.length} values but the header has ${header.length} columns` };
      yield row;
    }
  }

  async function* rows(): AsyncGenerator<CsvRow> {
    let failure: unknown;
    try {
      for await (const chunk of input) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        const parsed = text.take(typeof chunk === 'string' ? chunk : decoder.write(chunk), false);
        yield* records(parsed.rows, parsed.errors);
        // Every record before the break has been handed out; the break is on the next line counted.
        if (parsed.unreadable) throw new ValidationError(`The CSV file cannot be read: ${parsed.unreadable(text.line())}`);
      }
      const parsed = text.take(decoder.end(), true);
      yield* records(parsed.rows, parsed.errors);
      if (parsed.unreadable) throw new ValidationError(`The CSV file cannot be read: ${parsed.unreadable(text.line())}`);
    } catch (error) {
      failure = error;
    } finally {
      input.destroy();
    }
    if (failure) throw failure instanceof ValidationError ? failure : new ValidationError(`The CSV file cannot be read: ${(failure as Error).message}`);
  }

  return { header: () => header ?? [], rows: rows(), totalBytes };
}

/**
 * The text not yet parsed, and where lines stand. Each chunk is appended to the held-back
 * tail of the one before; papaparse parses every complete record and says where it stopped.
 */
class CsvText {
  private pending = '';
  private newline: '\n' | '\r\n' | '\r' | undefined;
  private parser: Papa.Parser | undefined;
  private nextLine = 1;
  private first = true;

  /**
   * The complete records of the text so far plus `chunk`. `unreadable` says, given the line
   * its record starts on (once the records before it are counted), why the text cannot go on.
   */
  take(chunk: string, last: boolean): { rows: string[][]; errors: Papa.ParseError[]; unreadable?: (line: number) => string } {
    let input = this.pending + chunk;
    if (this.first && input.length > 0) {
      this.first = false;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    this.newline ??= detectNewline(input, last);
    if (!this.newline) {
      this.pending = input;
      return { rows: [], errors: [] };
    }
    this.parser ??= new (papaparse().Parser)({ delimiter: ',', newline: this.newline, quoteChar: '"' });
    const result: Papa.ParseResult<string[]> = this.parser.parse(input, 0, !last);
    const rows = result.data;
    this.pending = last ? '' : input.slice(result.meta.cursor);
    // Only the last parse can meet an unclosed quote: before it, a record still open is held back.
    const unclosed = result.errors.find((e) => e.code === 'MissingQuotes');
    if (unclosed) {
      const at = unclosed.row ?? rows.length - 1;
      return { rows: rows.slice(0, at), errors: result.errors, unreadable: (line) => `the quoted value of the record on line ${line} is never closed` };
    }
    if (this.pending.length > MAX_RECORD_CHARS) {
      return { rows, errors: result.errors, unreadable: (line) => `the record on line ${line} is longer than ${MAX_RECORD_CHARS / 1024 / 1024} MB (a quote that is never closed?)` };
    }
    return { rows, errors: result.errors };
  }

  /** The line the next record starts on. */
  line(): number {
    return this.nextLine;
  }

  /** The line `cells` starts on; records must be asked for in file order, blank ones included. */
  startLineOf(cells: string[]): number {
    const line = this.nextLine;
    let breaks = 1;
    // A quoted value may hold line breaks: the next record starts that many lines further.
    const mark = this.newline === '\r' ? '\r' : '\n';
    for (const cell of cells) for (let at = cell.indexOf(mark); at !== -1; at = cell.indexOf(mark, at + 1)) breaks++;
    this.nextLine += breaks;
    return line;
  }
}

/** The file's line break, from its first one (unknown until one is seen or the text ends). */
function detectNewline(text: string, last: boolean): '\n' | '\r\n' | '\r' | undefined {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (lf !== -1 && (cr === -1 || cr >= lf - 1)) return cr === lf - 1 ? '\r\n' : '\n';
  if (cr !== -1 && cr < text.length - 1) return '\r';
  return last ? (cr !== -1 ? '\r' : '\n') : undefined;
}

function checkHeader(cells: string[]): string[] {
  const seen = new Set<string>();
  for (const name of cells) {
    if (!name) throw new ValidationError('The CSV header has an empty column name');
    if (seen.has(name)) throw new ValidationError(`The CSV header names column "${name}" twice`);
    seen.add(name);
  }
  return cells;
}
