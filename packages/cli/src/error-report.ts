import fs from 'node:fs';
import { once } from 'node:events';
import type { RejectedRow } from '@rapport/core';

/**
 * The rejected rows of an import as CSV: one line per problem (line, column, message), with
 * the source file first when one run imports several.
 */
export class ErrorReport {
  private readonly stream: fs.WriteStream;
  /** Rejected rows written so far. */
  rows = 0;

  constructor(
    readonly file: string,
    private readonly withFile = false,
  ) {
    this.stream = fs.createWriteStream(file);
    this.stream.write(`${withFile ? 'file,' : ''}line,column,message\n`);
  }

  async add(row: RejectedRow, source = ''): Promise<void> {
    this.rows += 1;
    const prefix = this.withFile ? `${csvCell(source)},` : '';
    for (const error of row.errors) {
      if (!this.stream.write(`${prefix}${row.line},${csvCell(error.column ?? '')},${csvCell(error.message)}\n`)) await once(this.stream, 'drain');
    }
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
