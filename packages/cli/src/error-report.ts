import fs from 'node:fs';
import { once } from 'node:events';
import type { RejectedRow } from '@rapport/core';

/** The rejected rows of an import as CSV: one line per problem (line, column, message). */
export class ErrorReport {
  private readonly stream: fs.WriteStream;

  constructor(readonly file: string) {
    this.stream = fs.createWriteStream(file);
    this.stream.write('line,column,message\n');
  }

  async add(row: RejectedRow): Promise<void> {
    for (const error of row.errors) {
      if (!this.stream.write(`${row.line},${csvCell(error.column ?? '')},${csvCell(error.message)}\n`)) await once(this.stream, 'drain');
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
