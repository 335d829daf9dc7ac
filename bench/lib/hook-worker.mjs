// One system in its own process for the hook-dispatch benchmark: `plain` (no plugin) or
// `busy` (a plugin with 100 filters and 100 listeners on names a party create never
// fires). Separate processes keep the two from sharing a heap, a JIT or a PGlite.
import { databaseUrl, loadCore, pgSchema, benchLimits } from './common.mjs';

const [db, variant] = process.argv.slice(2);
const core = await loadCore();

const busy = core.definePlugin({
  name: 'busy',
  version: '1.0.0',
  setup(api) {
    for (let i = 0; i < 100; i++) {
      api.hooks.filter(`busy.thing${i}.create`, () => undefined);
      api.hooks.on(`busy.thing${i}.created`, () => undefined);
    }
  },
});

const pg = db === 'postgres' ? await pgSchema(`hooks_${variant}`) : undefined;
const app = await core.createRapport({
  database: pg ? { url: databaseUrl, schema: pg.schema } : { dataDir: 'memory://' },
  plugins: variant === 'busy' ? [busy] : [],
  logLevel: 'silent',
  dispatcher: { enabled: false },
  limits: benchLimits,
});
let seq = 0;
const create = () => app.transaction((uow) => app.services.parties.create(uow, { kind: 'person', name: `p${seq++}` }));

async function creates(n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await create();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await app.settled();
  return samples;
}

/** The bus alone, no database: filters for party.create and the publish of party.created. */
async function busOnly(n) {
  const ctx = {};
  const event = [{ name: 'party.created', payload: {}, meta: { id: 'x', name: 'party.created' } }];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await app.bus.runFilters('party.create', { input: {} }, ctx);
    app.bus.publish(event);
  }
  await app.bus.settled();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

process.on('message', async (job) => {
  try {
    if (job.close) {
      await app.close();
      await pg?.drop();
      process.send({ id: job.id });
      process.exit(0);
    }
    if (job.bus) process.send({ id: job.id, microseconds: await busOnly(job.bus) });
    else process.send({ id: job.id, samples: await creates(job.n) });
  } catch (error) {
    process.send({ id: job.id, error: error.stack ?? error.message });
  }
});
process.send({ ready: true });
