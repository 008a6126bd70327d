// The JavaScript API of rule-js, under Node's test runner:
//   scripts/build-js.sh && node --test rule-js/tests/
// It imports the package by its own name, so the package.json `exports`
// map (the `node` condition) is tested too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { RuleEngine } from '@rule-wasm/netcon-file-creation';

const require = createRequire(import.meta.url);
const here = new URL('.', import.meta.url);
const sampleText = readFileSync(new URL('../../playground/sample.ndjson', here), 'utf8');
const sampleLines = sampleText.split('\n').filter((l) => l.trim() !== '');
const sample = sampleLines.map((l) => JSON.parse(l));
const byId = Object.fromEntries(sample.map((e, i) => [e.event.id, { event: e, line: sampleLines[i] }]));

const ids = (alert) => alert.Events.map((e) => e.event.id).join('+');
// The two halves of the first true positive of the sample.
const NET = byId.e01.line;
const FILE = byId.e02.line;

/** Asserts that `fn` throws an Error with these properties. */
function throwsWith(fn, expected) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an Error, got ${caught}`);
  for (const [k, v] of Object.entries(expected)) {
    if (v instanceof RegExp) assert.match(caught[k], v, `${k} of ${caught.message}`);
    else assert.equal(caught[k], v, `${k} of ${caught.message}`);
  }
  return caught;
}

const withoutErrors = ({ errors, ...rest }) => rest;

test('the package resolves to the node build', () => {
  assert.equal(
    require.resolve('@rule-wasm/netcon-file-creation'),
    new URL('../pkg/node/rule_js.js', here).pathname,
  );
});

test('the sample raises exactly its three true positives', () => {
  const engine = new RuleEngine();
  const report = engine.pushEvents(sampleText);
  assert.deepEqual(report, { taken: 25, refused: [], alertsPending: 3 });
  assert.equal(engine.pendingAlerts, 3);
  const alerts = engine.drainAlerts();
  assert.deepEqual(alerts.map(ids), ['e01+e02', 'e09+e11', 'e22+e23']);
  assert.equal(engine.drainAlerts().length, 0, 'drained means gone');

  const [first] = alerts;
  assert.equal(Object.getPrototypeOf(first), Object.prototype, 'a plain object');
  assert.equal(first.rule.name, 'Network Connection Followed by File Creation');
  assert.equal(first.rule.id, '01c1e353-9d86-4344-abdf-523ab80c6f08');
  assert.equal(first['@timestamp'], '2026-11-22T07:33:01.500Z');
  assert.deepEqual(first.host, { id: 'host-1' });
  assert.deepEqual(first.process, { entity_id: 'ent-1' });
  assert.equal(first.event.kind, 'alert');
  // Events are the pushed events, key for key.
  assert.equal(JSON.stringify(first.Events[0]), byId.e01.line);
  assert.equal(JSON.stringify(first.Events[1]), byId.e02.line);

  const stats = engine.stats();
  assert.equal(stats.events, 25);
  assert.equal(stats.alerts, 3);
  // Of the sample's 9 file events that pass stage 2, 6 come while a
  // sequence waits for one; a later stage is judged only then.
  assert.deepEqual(stats.stageMatches, [6, 6]);
  assert.equal(Object.values(stats.errors).reduce((a, b) => a + b), 0);
});

test('pushEvent takes strings, bytes and objects, and returns alerts pending', () => {
  for (const form of [
    (l) => l,
    (l) => new TextEncoder().encode(l),
    (l) => JSON.parse(l),
  ]) {
    const engine = new RuleEngine();
    assert.equal(engine.pushEvent(form(NET)), 0);
    assert.equal(engine.pushEvent(form(FILE)), 1);
    assert.deepEqual(engine.drainAlerts().map(ids), ['e01+e02']);
  }
  // A Date goes through JSON.stringify: RFC 3339.
  const engine = new RuleEngine();
  const net = { ...byId.e01.event, '@timestamp': new Date('2026-11-22T07:33:00Z') };
  const file = { ...byId.e02.event, '@timestamp': new Date('2026-11-22T07:33:01Z') };
  engine.pushEvent(net);
  assert.equal(engine.pushEvent(file), 1);
  assert.equal(engine.drainAlerts()[0]['@timestamp'], '2026-11-22T07:33:01.000Z');
});

test('alerts as NDJSON keep the events byte for byte', () => {
  const engine = new RuleEngine();
  const spaced = JSON.stringify(JSON.parse(NET), null, 1).replace(/\n/g, ' ');
  engine.pushEvent(spaced);
  engine.pushEvent(FILE);
  const text = engine.drainAlertsNdjson();
  assert.equal(text.split('\n').length, 2);
  assert.ok(text.includes(spaced), 'the event as pushed');
  assert.ok(text.endsWith('\n'));
});

test('bad events are refused with their code, and the state is kept', () => {
  const engine = new RuleEngine(undefined, { maxEventBytes: 4096 });
  engine.pushEvent(NET); // a sequence waits for its file event
  const before = withoutErrors(engine.stats());
  assert.equal(before.pendingSequences, 1);

  const ev = (patch) => JSON.stringify({ ...JSON.parse(FILE), ...patch });
  const cases = [
    ['   ', -1, 'empty'],
    ['{"pad":"' + 'x'.repeat(5000) + '"}', -2, 'too_large'],
    [new Uint8Array([0x7b, 0xff, 0x7d]), -3, 'invalid_utf8'],
    ['{oops', -4, 'invalid_json'],
    ['[1, 2]', -5, 'not_an_object'],
    [null, -5, 'not_an_object'],
    [ev({ process: { executable: { nested: true } } }), -6, 'wrong_type'],
    [ev({ destination: { ip: 'not-an-ip' } }), -7, 'malformed_ip'],
    [ev({ '@timestamp': undefined }), -8, 'missing_timestamp'],
    [ev({ '@timestamp': 'yesterday' }), -9, 'bad_timestamp'],
  ];
  for (const [input, code, kind] of cases) {
    throwsWith(() => engine.pushEvent(input), { name: 'EventError', code, kind, message: /^event refused: / });
  }
  const cyclic = {};
  cyclic.self = cyclic;
  throwsWith(() => engine.pushEvent(cyclic), { code: -4, kind: 'invalid_json' });

  const after = engine.stats();
  assert.deepEqual(withoutErrors(after), before, 'nothing but the error counters moved');
  assert.deepEqual(after.errors, {
    empty: 1, too_large: 1, invalid_utf8: 1, invalid_json: 1, not_an_object: 2,
    wrong_type: 1, malformed_ip: 1, missing_timestamp: 1, bad_timestamp: 1, back_pressure: 0,
  });
  // The waiting sequence is still there.
  assert.equal(engine.pushEvent(FILE), 1);
});

test('back-pressure: a full alert buffer refuses without taking, until drained', () => {
  const engine = new RuleEngine(undefined, { maxBufferedAlerts: 1 });
  engine.pushEvent(NET);
  assert.equal(engine.pushEvent(FILE), 1);
  const events = engine.stats().events;
  throwsWith(() => engine.pushEvent(byId.e03.line), { code: -10, kind: 'back_pressure' });
  throwsWith(() => engine.pushEvents(sampleText), { code: -10, kind: 'back_pressure' });
  assert.equal(engine.stats().events, events, 'nothing taken');
  assert.equal(engine.stats().errors.back_pressure, 2);
  assert.equal(engine.drainAlerts().length, 1);
  assert.equal(engine.pushEvent(byId.e03.line), 0);
});

test('pushEvents reports refused lines by number, and takes the rest', () => {
  const engine = new RuleEngine();
  const batch = [NET, '{oops', '', '"just a string"', FILE, '{"event":{}}'].join('\n');
  const report = engine.pushEvents(batch);
  assert.equal(report.taken, 2);
  assert.equal(report.alertsPending, 1);
  assert.deepEqual(
    report.refused.map(({ line, code, kind }) => ({ line, code, kind })),
    [
      { line: 2, code: -4, kind: 'invalid_json' },
      { line: 4, code: -5, kind: 'not_an_object' },
      { line: 6, code: -8, kind: 'missing_timestamp' },
    ],
  );
  assert.match(report.refused[0].message, /invalid JSON/);
  // Bytes work too, with a bad UTF-8 line.
  const bytes = new Uint8Array([...new TextEncoder().encode(NET + '\n'), 0xff, 0x0a]);
  const r2 = new RuleEngine().pushEvents(bytes);
  assert.deepEqual([r2.taken, r2.refused[0].line, r2.refused[0].code], [1, 2, -3]);
  throwsWith(() => engine.pushEvents(42), { code: -5 });
});

test('rule errors carry line and column', () => {
  const e = throwsWith(
    () => new RuleEngine('sequence by host.id with maxspan=5s\n  [network where host.os.type == ]\n  [file where true]'),
    { name: 'RuleError', code: -12, kind: 'rule', line: 2, column: 34, queryLine: 2, queryColumn: 34 },
  );
  assert.match(e.message, /^rule error at line 2, column 34: /);
  assert.ok(e.reason.length > 0 && !e.reason.includes('line 2'));

  // Constructs the engine refuses are named, with their place.
  throwsWith(() => new RuleEngine('sequence\n  [network where true]\n  [file where true] | sort x'), {
    code: -12, line: 3, column: 23,
  });
  // Columns count characters, not bytes.
  throwsWith(() => new RuleEngine('file where file.name == "é" and'), { line: 1, column: 32 });

  // In a TOML rule file, line and column are the file's; queryLine/queryColumn the query's.
  const toml = RuleEngine.embeddedToml();
  const broken = toml.replace('and event.action == "connection_attempted"', 'and event.action === "connection_attempted"');
  assert.notEqual(broken, toml);
  const t = throwsWith(() => new RuleEngine(broken), { code: -12, queryLine: 2 });
  const fileLine = broken.split('\n')[t.line - 1];
  assert.ok(fileLine.includes('event.action ==='), `line ${t.line} is ${fileLine}`);
  assert.equal([...fileLine].slice(t.column - 1).join('').startsWith('='), true);

  // TOML syntax and metadata errors.
  throwsWith(() => new RuleEngine('[rule]\nname = \n'), { code: -12, line: 2, column: 8, message: /TOML/ });
  const kuery = toml.replace('language = "eql"', 'language = "kuery"');
  const m = throwsWith(() => new RuleEngine(kuery), { code: -12, message: /only "eql"/ });
  assert.equal(m.line, undefined);
});

test('a TOML rule brings its metadata; EQL alone gets the embedded one', () => {
  const toml = RuleEngine.embeddedToml()
    .replace('name = "Network Connection Followed by File Creation"', 'name = "My variant"')
    .replace('severity = "low"', 'severity = "high"');
  const mine = new RuleEngine(toml);
  assert.equal(mine.ruleMeta.name, 'My variant');
  mine.pushEvents(NET + '\n' + FILE);
  const [alert] = mine.drainAlerts();
  assert.equal(alert.rule.name, 'My variant');
  assert.equal(alert.event.severity, 73);

  const eql = new RuleEngine(RuleEngine.embeddedQuery());
  assert.equal(eql.query, RuleEngine.embeddedQuery());
  assert.equal(eql.ruleMeta.name, 'Network Connection Followed by File Creation');

  // A variation: one join key, any executable.
  const loose = new RuleEngine(
    'sequence by host.id with maxspan=10s [network where event.type == "start"] [file where event.type == "creation"]',
  );
  loose.pushEvents(sampleText);
  loose.flush();
  assert.ok(loose.drainAlerts().length > 3);
});

test('a pack runs many rules in one engine; alerts and stats name each rule', () => {
  const pack = RuleEngine.pack([
    RuleEngine.embeddedToml(),
    'process where process.name == "no-such-process"',
    'process where',
    '[rule]\nname = 1',
  ]);
  assert.equal(pack.rules.length, 2);
  assert.equal(pack.rules[0].name, 'Network Connection Followed by File Creation');
  pack.pushEvents(sampleText);
  pack.flush();
  const alone = new RuleEngine();
  alone.pushEvents(sampleText);
  alone.flush();
  const seedId = pack.rules[0].id;
  const seedAlerts = pack.drainAlertsNdjson().split('\n').filter((l) => l.includes(`"id":"${seedId}"`));
  assert.deepEqual(seedAlerts, alone.drainAlertsNdjson().split('\n').filter((l) => l !== ''));
  const stats = pack.stats();
  assert.equal(stats.rules.length, 2);
  assert.equal(stats.rules[0].alerts, seedAlerts.length);
  assert.deepEqual(stats.refusedRules.map((r) => r.name), ['ruleTexts[2]', 'ruleTexts[3]']);
  assert.equal(pack.rules[1].id, 'ruleTexts[1]');
  assert.equal(pack.explainRule(1, { '@timestamp': 1, event: { category: 'process' }, process: { name: 'no-such-process' } }).stages[0].passes, true);
  throwsWith(() => RuleEngine.pack(['process where']), { code: -12, message: /no rule of the pack compiles/ });
  throwsWith(() => RuleEngine.pack('process where true'), { code: -12 });
});

test('example: events that fire the rule, and near misses that do not', () => {
  const alertsOn = (events, rule) => {
    const engine = rule === undefined ? new RuleEngine() : new RuleEngine(rule);
    const report = engine.pushEvents(events.join('\n'));
    assert.deepEqual(report.refused, []);
    engine.flush();
    return engine.drainAlerts();
  };
  const ex = RuleEngine.example();
  assert.deepEqual(Object.keys(ex).sort(), ['nearMisses', 'positives']);
  assert.ok(ex.positives.length >= 2 && ex.positives.every((p) => typeof p === 'string'));
  const alerts = alertsOn(ex.positives);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].rule.name, 'Network Connection Followed by File Creation');
  assert.ok(ex.nearMisses.length > 0);
  for (const miss of ex.nearMisses) {
    assert.ok(miss.what.length > 0);
    assert.deepEqual(alertsOn(miss.events), [], miss.what);
  }
  // The rule given as EQL or TOML: the same example as the embedded one.
  assert.deepEqual(RuleEngine.example(RuleEngine.embeddedQuery()), ex);
  assert.deepEqual(RuleEngine.example(RuleEngine.embeddedToml()), ex);
  // Another rule, with params.
  const mine = 'sequence by host.id with maxspan=1m [process where process.name == "curl"] [network where destination.port > 1023]';
  const params = { timestampField: 'ts' };
  const own = RuleEngine.example(mine, params);
  assert.ok(own.positives.every((p) => 'ts' in JSON.parse(p) && !('@timestamp' in JSON.parse(p))));
  const engine = new RuleEngine(mine, null, params);
  engine.pushEvents(own.positives.join('\n'));
  engine.flush();
  assert.equal(engine.drainAlerts().length, 1);

  // A rule error is the constructor's; a rule without an example says why.
  throwsWith(() => RuleEngine.example('sequence by host.id\n  [network where host.os.type == ]\n  [file where true]'), {
    name: 'RuleError', code: -12, kind: 'rule', line: 2, column: 34,
  });
  throwsWith(() => RuleEngine.example('process where true', { nope: 1 }), { code: -12, kind: 'params' });
  throwsWith(() => RuleEngine.example(42), { code: -12, kind: 'rule' });
  const e = throwsWith(() => RuleEngine.example('process where false'), {
    name: 'RuleError', code: -12, kind: 'example', stage: 1, message: /^no example for this rule: stage 1: /,
  });
  assert.ok(e.reason.length > 0);
});

test('options are the limits in camelCase; unknown or bad ones are refused', () => {
  const engine = new RuleEngine(null, { reorderWindowMs: 2000, maxBufferedAlerts: 5 });
  assert.deepEqual(engine.limits, {
    maxEventBytes: 1048576,
    maxPendingSequences: 1000000,
    maxStateBytes: 536870912,
    maxTotalStateBytes: 536870912,
    maxBufferedAlerts: 5,
    reorderWindowMs: 2000,
    hashSeed: 0,
  });
  throwsWith(() => new RuleEngine(undefined, { reorderWindow: 5 }), { code: -12, kind: 'options', message: /unknown option "reorderWindow"/ });
  throwsWith(() => new RuleEngine(undefined, { maxEventBytes: -1 }), { code: -12, kind: 'options' });
  throwsWith(() => new RuleEngine(undefined, { maxEventBytes: 1.5 }), { code: -12, kind: 'options' });
  throwsWith(() => new RuleEngine(undefined, { maxEventBytes: 'big' }), { code: -12, kind: 'options' });
  throwsWith(() => new RuleEngine(undefined, 7), { code: -12, kind: 'options' });
});

test('params are Elasticsearch\'s request parameters: a mapping gives types and aliases', () => {
  const mapping = {
    properties: {
      kind: { type: 'keyword' },
      pid: { type: 'long' },
      event: { properties: { category: { type: 'alias', path: 'kind' } } },
    },
  };
  const engine = new RuleEngine('process where pid / 2 == 1 and ?nosuch == null', null, { mapping });
  engine.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', kind: 'process', pid: 3 });
  engine.pushEvent({ '@timestamp': '2026-01-01T00:00:01Z', kind: 'process', pid: 4 });
  assert.equal(engine.drainAlerts().length, 1);
  const byType = new RuleEngine('process where true', null, { eventCategoryField: 'event.type' });
  byType.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { type: 'process' } });
  assert.equal(byType.drainAlerts().length, 1);
  throwsWith(() => new RuleEngine('process where nosuch == 1', null, { mapping }), { code: -12, kind: 'rule', message: /unknown field/ });
  throwsWith(() => new RuleEngine(null, null, { timestamp: 'x' }), { code: -12, kind: 'params', message: /unknown param/ });
  throwsWith(() => new RuleEngine(null, null, { mapping: 5 }), { code: -12, kind: 'params' });
  // A tiebreaker orders events of the same time: here `b` comes first.
  const tie = new RuleEngine('sequence [process where kind == "a"] [process where kind == "b"]', null, { tiebreakerField: 'serial' });
  tie.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, kind: 'a', serial: 2 });
  tie.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, kind: 'b', serial: 1 });
  assert.equal(tie.drainAlerts().length, 0);
  // The counters of the new constructs are in stats.
  const piped = new RuleEngine('process where 1 / number(kind) == 1 | head 1');
  for (const kind of ['1', '1', '0']) piped.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, kind });
  const s = piped.stats();
  assert.equal(s.pipedOut, 1);
  assert.equal(s.scriptErrors, 1, 'division by zero');
  assert.deepEqual([s.scriptTruncated, s.endedByUntil, s.discardedByMissing], [0, 0, 0]);
  // `size` and `resultPosition`: the first two results as they form, or
  // the last two at flush.
  const push3 = (engine) => {
    for (const kind of ['a', 'b', 'c']) engine.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, kind });
    const now = engine.drainAlerts().map((a) => a.Events[0].kind);
    engine.flush();
    return [now, engine.drainAlerts().map((a) => a.Events[0].kind)];
  };
  assert.deepEqual(push3(new RuleEngine('process where true', null, { size: 2, resultPosition: 'head' })), [['a', 'b'], []]);
  assert.deepEqual(push3(new RuleEngine('process where true', null, { size: 2 })), [[], ['b', 'c']]);
  assert.deepEqual(push3(new RuleEngine('process where true')), [['a', 'b', 'c'], []]);
  throwsWith(() => new RuleEngine(null, null, { resultPosition: 'middle' }), { code: -12, kind: 'params' });
  throwsWith(() => new RuleEngine(null, null, { size: -1 }), { code: -12, kind: 'params' });
  // A malformed value of an `ignore_malformed` field is left out and counted.
  const lenient = new RuleEngine('process where pid == null', null, {
    mapping: { properties: { pid: { type: 'long', ignore_malformed: true }, event: { properties: { category: { type: 'keyword' } } } } },
  });
  lenient.pushEvent({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, pid: 'abc' });
  assert.equal(lenient.drainAlerts().length, 1);
  assert.equal(lenient.stats().ignoredMalformed.wrong_type, 1);
});

test('explain shows a computed condition as a script node with its fields', () => {
  const engine = new RuleEngine('process where length(process.name) > 3 and process.name regex~ "BA.*"');
  const ex = engine.explain({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, process: { name: 'bash' } });
  const nodes = [];
  const walk = (n) => { nodes.push(n); (n.children || []).forEach(walk); if (n.child) walk(n.child); };
  walk(ex.stages[0].filter);
  const script = nodes.find((n) => n.node === 'script');
  assert.deepEqual(script, { node: 'script', result: true, test: 'length(process.name) > 3', fields: [{ field: 'process.name', values: ['bash'] }] });
  const regex = nodes.find((n) => n.node === 'leaf' && n.test.includes('regex'));
  assert.equal(regex.test, 'process.name regex~ ("BA.*")');
  assert.equal(ex.stages[0].passes, true);
});

test('arguments of the wrong type are refused with a code, never a trap', () => {
  for (const rule of [5, {}, [], true]) {
    throwsWith(() => new RuleEngine(rule), { name: 'RuleError', code: -12, message: /ruleText must be a string/ });
  }
  const engine = new RuleEngine(null, null);
  engine.pushEvent(NET);
  for (const bad of ['abc', null, [1, 2], 42, new ArrayBuffer(4)]) {
    throwsWith(() => engine.restore(bad), { name: 'SnapshotError', code: -14 });
  }
  for (const bad of [undefined, () => 1, Symbol('s'), 7, true]) {
    throwsWith(() => engine.pushEvent(bad), { code: -5 });
  }
  throwsWith(() => engine.pushEvent(10n), { code: -4 });
  throwsWith(() => engine.pushEvents({}), { code: -5 });
  throwsWith(() => engine.advanceTime('soon'), { code: -9 });
  // The instance is intact.
  assert.equal(engine.pushEvent(FILE), 1);
});

test('the reorder window holds events until flush or advanceTime', () => {
  const engine = new RuleEngine(undefined, { reorderWindowMs: 10000 });
  // The file event first: out of order, within the window.
  assert.equal(engine.pushEvent(FILE), 0);
  assert.equal(engine.pushEvent(NET), 0);
  assert.equal(engine.stats().reorderHeld, 2);
  assert.equal(engine.flush(), 1);
  assert.deepEqual(engine.drainAlerts().map(ids), ['e01+e02']);

  const ticking = new RuleEngine(undefined, { reorderWindowMs: 10000 });
  ticking.pushEvent(NET);
  ticking.pushEvent(FILE);
  assert.equal(ticking.advanceTime(Date.parse('2026-11-22T07:33:05Z')), 0);
  assert.equal(ticking.advanceTime(Date.parse('2026-11-22T07:33:20Z')), 1);
  throwsWith(() => ticking.advanceTime(NaN), { code: -9 });
});

test('explain: each stage, each predicate true, false or missing, with values', () => {
  const engine = new RuleEngine();
  const before = engine.stats();
  const leaves = (node) =>
    node.node === 'leaf' ? [node]
      : node.node === 'not' ? leaves(node.child)
        : node.children ? node.children.flatMap(leaves) : [];

  // The network half of a true positive: stage 0 passes and joins.
  const net = engine.explain(NET);
  assert.equal(net.time, '2026-11-22T07:33:00.000Z');
  assert.equal(net.timestamp, Date.parse('2026-11-22T07:33:00Z'));
  assert.deepEqual(net.stages.map((s) => [s.stage, s.passes, s.joins]), [[0, true, true], [1, false, false]]);
  assert.deepEqual(net.stages[0].joinKeys, [
    { field: 'host.id', values: ['host-1'] },
    { field: 'process.entity_id', values: ['ent-1'] },
  ]);
  const category = leaves(net.stages[1].filter).find((l) => l.field === 'event.category');
  assert.deepEqual(
    [category.outcome, category.result, category.test, category.values],
    ['false', false, 'event.category == "file"', ['network']],
  );

  // No destination.ip: `== null` is true, cidrmatch has its field missing.
  const e14 = engine.explain(byId.e14.event);
  assert.equal(e14.stages[0].passes, false);
  const ipLeaves = leaves(e14.stages[0].filter).filter((l) => l.field === 'destination.ip');
  assert.deepEqual(ipLeaves[0], { node: 'leaf', result: true, outcome: 'true', test: 'destination.ip == null', field: 'destination.ip', values: [] });
  assert.ok(ipLeaves.slice(1).every((l) => l.outcome === 'missing' && l.result === false));

  // IPv4-mapped IPv6 is read as IPv4: inside 192.168.0.0/16.
  const e16 = engine.explain(byId.e16.line);
  const cidr = leaves(e16.stages[0].filter).filter((l) => l.test.startsWith('cidrmatch'));
  assert.ok(cidr.some((l) => l.outcome === 'true' && l.values[0] === '192.168.1.10'));

  // process.name java is excluded from the file stage.
  const e13 = engine.explain(byId.e13.line);
  assert.equal(e13.stages[1].passes, false);
  const java = leaves(e13.stages[1].filter).find((l) => l.field === 'process.name');
  assert.equal(java.outcome, 'true');
  assert.deepEqual(java.values, ['java']);

  // The tree's results add up.
  const check = (n) => {
    if (n.node === 'and') assert.equal(n.result, n.children.every(check));
    if (n.node === 'or') assert.equal(n.result, n.children.some(check));
    if (n.node === 'not') assert.equal(n.result, !check(n.child));
    return n.result;
  };
  for (const s of [...net.stages, ...e14.stages]) assert.equal(check(s.filter), s.passes);

  assert.deepEqual(engine.stats(), before, 'explain changes nothing');
  throwsWith(() => engine.explain('{oops'), { code: -4 });
  assert.deepEqual(engine.stats(), before, 'not even the error counters');
});

test('snapshot and restore carry pending sequences across engines', () => {
  const a = new RuleEngine();
  a.pushEvent(NET);
  const bytes = a.snapshot();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 0);

  const b = new RuleEngine();
  b.restore(bytes);
  assert.equal(b.stats().pendingSequences, 1);
  assert.equal(b.pushEvent(FILE), 1);
  assert.deepEqual(b.drainAlerts().map(ids), ['e01+e02']);

  // Corrupt, truncated or foreign bytes are refused; the engine is kept.
  const c = new RuleEngine();
  c.pushEvent(byId.e09.line);
  const kept = c.stats();
  const flipped = bytes.slice();
  flipped[flipped.length - 12] ^= 0xff;
  for (const bad of [flipped, bytes.slice(0, bytes.length - 1), new Uint8Array([1, 2, 3]), new Uint8Array()]) {
    throwsWith(() => c.restore(bad), { name: 'SnapshotError', code: -14, kind: 'snapshot' });
  }
  assert.deepEqual(c.stats(), kept);
  // Another rule shape (one join key instead of two).
  const other = new RuleEngine('sequence by host.id [network where true] [file where true]');
  throwsWith(() => other.restore(bytes), { code: -14, message: /rule/ });
  assert.equal(c.pushEvent(byId.e11.line), 1);
});

test('TypeScript declarations come with both builds', () => {
  for (const dir of ['node', 'web']) {
    const dts = readFileSync(new URL(`../pkg/${dir}/rule_js.d.ts`, here), 'utf8');
    for (const needle of [
      'export class RuleEngine',
      'constructor(ruleText?: string | null, options?: RuleEngineOptions',
      'pushEvent(event: string | Uint8Array | Record<string, unknown>): number;',
      'pushEvents(ndjson: string | Uint8Array): BatchReport;',
      'drainAlerts(): Alert[];',
      'explain(event: string | Uint8Array | Record<string, unknown>): Explanation;',
      'stats(): Stats;',
      'snapshot(): Uint8Array;',
      'export interface RuleEngineError extends Error',
      'export type FilterNode',
      'static example(ruleText?: string | null, params?: RuleEngineParams | null): RuleExample;',
      'export interface RuleExample',
    ]) {
      assert.ok(dts.includes(needle), `${dir}: ${needle}`);
    }
  }
  const web = readFileSync(new URL('../pkg/web/rule_js.d.ts', here), 'utf8');
  assert.match(web, /export default function __wbg_init/);
});
