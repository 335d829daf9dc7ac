import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openCsv, type CsvRow } from '../src/import/csv-source.js';

/** Every row of `chunks` (fed one chunk at a time, as a file or an upload arrives), or the error that stopped it. */
async function read(chunks: Array<string | Buffer>): Promise<{ header: string[]; rows: CsvRow[]; error?: string }> {
  const source = openCsv(Readable.from(chunks, { objectMode: true }));
  const rows: CsvRow[] = [];
  try {
    for await (const row of source.rows) rows.push(row);
  } catch (error) {
    return { header: source.header(), rows, error: (error as Error).message };
  }
  return { header: source.header(), rows };
}

const lines = (rows: CsvRow[]) => rows.map((r) => [r.line, r.record, r.malformed?.message]);

describe('CSV source', () => {
  it('reads records keyed by the trimmed header, skipping blank lines and rows of empty values, with the line each starts on', async () => {
    const { header, rows } = await read(['\ufeffkind , name\n', '\n', 'person, Ada \n', ' , \n', 'org,"Acme, Inc."\n']);
    expect(header).toEqual(['kind', 'name']);
    expect(lines(rows)).toEqual([
      [3, { kind: 'person', name: 'Ada' }, undefined],
      [5, { kind: 'org', name: 'Acme, Inc.' }, undefined],
    ]);
  });

  it('counts the lines of quoted values that span lines, with LF, CRLF and CR line breaks', async () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      const text = ['name,note', `A,"one${nl}two${nl}three"`, 'B,"say ""hi"""', 'C,last'].join(nl);
      const { rows, error } = await read([text]);
      expect(error).toBeUndefined();
      expect(lines(rows)).toEqual([
        [2, { name: 'A', note: `one${nl}two${nl}three` }, undefined],
        [5, { name: 'B', note: 'say "hi"' }, undefined],
        [6, { name: 'C', note: 'last' }, undefined],
      ]);
    }
  });

  it('gives the same records whatever the chunk boundaries, even inside a quoted value or a multi-byte character', async () => {
    const text = Buffer.from('name,note\nZoë,"a\nb"\nÅsa,"x,y"\n最後,end\n', 'utf8');
    const whole = await read([text]);
    expect(lines(whole.rows)).toEqual([
      [2, { name: 'Zoë', note: 'a\nb' }, undefined],
      [4, { name: 'Åsa', note: 'x,y' }, undefined],
      [5, { name: '最後', note: 'end' }, undefined],
    ]);
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.subarray(at, at + size));
      expect(lines((await read(chunks)).rows)).toEqual(lines(whole.rows));
    }
  });

  it('flags rows of the wrong width or with malformed quotes, and goes on', async () => {
    // A stray quote inside a quoted value (closed further on) spoils only its own row.
    const { rows, error } = await read(['a,b\n1\n1,2,3\n1,"2"x"\n4,5\n']);
    expect(error).toBeUndefined();
    expect(rows.map((r) => [r.line, r.malformed?.message ?? 'ok'])).toEqual([
      [2, 'the row has 1 values but the header has 2 columns'],
      [3, 'the row has 3 values but the header has 2 columns'],
      [4, expect.stringMatching(/quotes are malformed/)],
      [5, 'ok'],
    ]);
  });

  it('stops at a quote never closed, after handing out every record before it, naming its line', async () => {
    const { rows, error } = await read(['a,b\n1,2\n', '3,4\n5,"never\n', 'closed\n6,7\n']);
    expect(rows.map((r) => r.line)).toEqual([2, 3]);
    expect(error).toBe('The CSV file cannot be read: the quoted value of the record on line 4 is never closed');
  });

  it('reads a last line without a line break, and refuses a bad header', async () => {
    expect(lines((await read(['a,b\r\n1,2'])).rows)).toEqual([[2, { a: '1', b: '2' }, undefined]]);
    expect((await read(['a,,b\n'])).error).toMatch(/empty column name/);
    expect((await read(['a,b,a\n'])).error).toMatch(/names column "a" twice/);
    expect(await read([''])).toEqual({ header: [], rows: [] });
  });
});
