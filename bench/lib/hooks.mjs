// 2. Hook dispatch: creating a party with 100 filters and 100 listeners registered on
// OTHER names vs none. Each system runs in its own process; rounds alternate which goes
// first; warm-up rounds are thrown away; the figure is the ratio of the medians of the
// per-round p50s (and the bus alone, without the database, is timed beside it).
import { child } from './children.mjs';
import { interleave, median, pairedRatio, stats } from './common.mjs';

async function start(db, variant) {
  const c = child('hook-worker.mjs', [db, variant]);
  await new Promise((resolve, reject) => {
    c.proc.once('message', (m) => (m.ready ? resolve() : reject(new Error('hook worker did not start'))));
    c.proc.once('exit', (code) => reject(new Error(`hook worker exited with ${code}`)));
  });
  return c;
}

export async function hookBenchmarks({ quick, db }) {
  const perRound = quick ? 40 : 50;
  const rounds = quick ? 4 : 24;
  const workers = { plain: await start(db, 'plain'), busy: await start(db, 'busy') };
  try {
    const measured = await interleave(Object.fromEntries(Object.entries(workers).map(([name, w]) => [name, async () => stats((await w.call({ n: perRound })).samples).p50])), {
      rounds,
      warmup: quick ? 1 : 2,
    });
    const bus = {};
    for (const [name, w] of Object.entries(workers)) bus[name] = (await w.call({ bus: quick ? 20_000 : 200_000 })).microseconds;
    const none = median(measured.plain);
    const hundred = median(measured.busy);
    return [
      {
        name: 'hook dispatch: create party, 100 unrelated hooks vs none',
        db,
        baseline: none,
        measured: hundred,
        unit: 'ms p50',
        ratio: pairedRatio(measured.busy, measured.plain),
        goal: '<= 1.1',
        detail: { rounds: measured, createsPerRound: perRound, busOnlyMicroseconds: bus },
      },
    ];
  } finally {
    for (const w of Object.values(workers)) await w.call({ close: true }).catch(() => undefined);
  }
}
