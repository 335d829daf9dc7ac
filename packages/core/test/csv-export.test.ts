import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvStream, keysetBatches, sendCsv, type CsvColumn } from '../src/index.js';

interface Row {
  id: number;
  name: unknown;
}

/** A "table" of n rows read by keyset, recording the keys each fetch was asked for. */
function table(n: number) {
  const rows: Row[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `row ${i + 1}` }));
  const calls: Array<{ after: number | undefined; limit: number }> = [];
  const fetch = async (after: Row | undefined, limit: number) => {
    calls.push({ after: after?.id, limit });
    return rows.filter((r) => r.id > (after?.id ?? 0)).slice(0, limit);
  };
  return { rows, calls, fetch };
}

const columns: CsvColumn<Row>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'name', value: (r) => r.name },
];

describe('keysetBatches', () => {
  it('reads batch after batch from the last key, stopping at the first short batch', async () => {
    const { calls, fetch } = table(7);
    const seen: number[][] = [];
    for await (const batch of keysetBatches(fetch, 3)) seen.push(batch.map((r) => r.id));
    expect(seen).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(calls).toEqual([
      { after: undefined, limit: 3 },
      { after: 3, limit: 3 },
      { after: 6, limit: 3 },
    ]);
  });

  it('asks once more after an exactly full last batch, and yields nothing for an empty table', async () => {
    const full = table(6);
    let batches = 0;
    for await (const _ of keysetBatches(full.fetch, 3)) batches++;
    expect(batches).toBe(2);
    expect(full.calls).toHaveLength(3);
    const empty = table(0);
    for await (const _ of keysetBatches(empty.fetch, 3)) batches++;
    expect(batches).toBe(2);
  });

  it('refuses a batch size that is not a positive integer', async () => {
    await expect(keysetBatches(table(1).fetch, 0).next()).rejects.toThrow(/positive integer/);
  });
});

describe('csvStream', () => {
  it('writes a header and quoted cells that parse back to the values', async () => {
    const rows: Row[] = [
      { id: 1, name: 'Acme, Inc.' },
      { id: 2, name: 'She said "hi"\non two lines' },
      { id: 3, name: null },
      { id: 4, name: { nested: true } },
      { id: 5, name: new Date('2027-01-02T03:04:05Z') },
    ];
    const out = await text(
      csvStream(
        columns,
        keysetBatches(async (after, limit) => rows.filter((r) => r.id > (after?.id ?? 0)).slice(0, limit), 2),
      ),
    );
    expect(parse(out, { columns: true })).toEqual([
      { id: '1', name: 'Acme, Inc.' },
      { id: '2', name: 'She said "hi"\non two lines' },
      { id: '3', name: '' },
      { id: '4', name: '{"nested":true}' },
      { id: '5', name: '2027-01-02T03:04:05.000Z' },
    ]);
  });

  it('keeps a formula-looking text from running in a spreadsheet, but not a negative number', async () => {
    const rows: Row[] = [
      { id: -1, name: '=HYPERLINK("http://evil")' },
      { id: 2, name: '+1 555 0100' },
    ];
    const out = await text(
      csvStream(
        columns,
        (async function* () {
          yield rows;
        })(),
      ),
    );
    expect(parse(out, { columns: true })).toEqual([
      { id: '-1', name: `'=HYPERLINK("http://evil")` },
      { id: '2', name: `'+1 555 0100` },
    ]);
  });
});

describe('sendCsv', () => {
  it('sets a CSV download and streams every row', async () => {
    const { rows, fetch } = table(2500);
    const headers: Record<string, string> = {};
    const koa = { status: 0, type: '', body: undefined as unknown, set: (k: string, v: string) => (headers[k] = v) };
    await sendCsv(koa as never, 'deals "2027".csv', columns, keysetBatches(fetch, 1000));
    expect(koa.status).toBe(200);
    expect(koa.type).toBe('text/csv; charset=utf-8');
    expect(headers['Content-Disposition']).toBe('attachment; filename="deals _2027_.csv"');
    const parsed = parse(await text(koa.body as NodeJS.ReadableStream), { columns: true });
    expect(parsed).toHaveLength(rows.length);
    expect(parsed.at(-1)).toEqual({ id: '2500', name: 'row 2500' });
  });

  it('fails before answering when the first batch cannot be read, so the caller gets an error, not a broken file', async () => {
    const koa = { status: 0, type: '', body: undefined as unknown, set: () => undefined };
    const failing = keysetBatches<Row>(async () => {
      throw new Error('relation does not exist');
    });
    await expect(sendCsv(koa as never, 'x.csv', columns, failing)).rejects.toThrow(/relation does not exist/);
    expect(koa.body).toBeUndefined();
    expect(koa.status).toBe(0);
  });
});
