// The playground end to end, in headless Chromium (Debian's `chromium`),
// driven by playwright-core: load the page, run the sample, see its alerts,
// click events and read their explanations, break the rule and see the
// error in place, drop a file of events; load the bundled Linux pack, see
// the alerts grouped by rule, explain with a rule of the pack, and build a
// pack from rule files; make events that fire the rule (one, or a pack's).
//
//   scripts/test-browser.sh            (builds first, installs what is missing)
//   node --test playground/tests/      (needs playground/pkg and npm ci here)
//
// The page is served by a static server this test starts on 127.0.0.1; any
// request elsewhere is aborted. PLAYGROUND_SCREENSHOT=path saves a
// screenshot with alerts and an explanation; CHROMIUM overrides the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..'); // playground/
const require = createRequire(import.meta.url);
// The Node build of the same engine, to cross-check what the page shows.
const { RuleEngine } = require('../../rule-js/pkg/node/rule_js.js');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ndjson': 'application/x-ndjson; charset=utf-8',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

let server;
let browser;
let page;
let base;
const problems = [];

before(async () => {
  assert.ok(existsSync(path.join(root, 'pkg', 'rule_js.js')), 'playground/pkg is missing: run scripts/build-js.sh');
  server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const rel = decodeURIComponent(url.pathname).replace(/\/$/, '/index.html');
    const file = path.normalize(path.join(root, rel));
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}`;

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1680, height: 1050 } });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  // Nothing but the local server.
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1') route.continue();
    else {
      problems.push(`blocked request to ${u.href}`);
      route.abort();
    }
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

const alertedLines = () =>
  page.$$eval('#event-rows tr.alerted', (rows) => rows.map((r) => Number(r.dataset.line)));

test('the page loads with the embedded rule and the sample', async () => {
  const rule = await page.inputValue('#rule');
  assert.equal(rule.trim(), RuleEngine.embeddedQuery().trim());
  assert.match(rule, /^sequence by host\.id, process\.entity_id with maxspan=5s/);
  const events = await page.inputValue('#events');
  assert.equal(events.trim().split('\n').length, 25);
  assert.match(await page.textContent('#rule-ok'), /compiles: 2 stages/);
  assert.equal(await page.isHidden('#rule-error'), true);
});

test('running the sample shows its three alerts', async () => {
  await page.click('#run');
  await page.waitForSelector('.status.good');
  assert.match(await page.textContent('#status'), /^3 alerts from 25 events/);
  assert.equal(await page.textContent('#alert-count'), '3');
  const alerts = await page.$$eval('#alerts li.alert', (items) => items.map((li) => ({
    name: li.querySelector('.alert-head strong').textContent,
    lines: [...li.querySelectorAll('.seq button')].map((b) => b.textContent),
    keys: li.querySelector('.keys').textContent,
  })));
  assert.equal(alerts.length, 3);
  assert.deepEqual(alerts.map((a) => a.lines), [['line 1', 'line 2'], ['line 9', 'line 11'], ['line 22', 'line 23']]);
  assert.ok(alerts.every((a) => a.name === 'Network Connection Followed by File Creation'));
  assert.match(alerts[0].keys, /host\.id host-1/);
  assert.match(alerts[0].keys, /process\.entity_id ent-1/);
  assert.deepEqual(await alertedLines(), [1, 2, 9, 11, 22, 23]);
  // Each row shows its stage verdicts.
  const badges = await page.$$eval('#event-rows tr[data-line="1"] .stage-badge', (b) => b.map((x) => x.className));
  assert.deepEqual(badges, ['stage-badge joins', 'stage-badge fails']);
});

test('clicking an event explains it stage by stage', async () => {
  // Line 14: a connection with no destination.ip.
  await page.click('#event-rows tr[data-line="14"]');
  await page.waitForSelector('#explanation .stage');
  assert.equal(await page.textContent('#explain-title'), 'line 14');
  const stage1 = page.locator('#explanation .stage[data-stage="1"]');
  assert.equal(await stage1.getAttribute('data-passes'), 'false');
  assert.match(await stage1.locator('h3').textContent(), /✗ Stage 1: does not pass/);
  const isNull = stage1.locator('.leaf', { hasText: 'destination.ip == null' });
  assert.equal(await isNull.getAttribute('data-outcome'), 'true');
  assert.equal(await isNull.locator('.icon').textContent(), '✓');
  const missing = stage1.locator('.leaf[data-field="destination.ip"][data-outcome="missing"]');
  assert.ok((await missing.count()) >= 1);
  assert.equal(await missing.first().locator('.icon').textContent(), '∅');
  assert.equal(await missing.first().locator('.values').textContent(), 'missing');
  const exe = stage1.locator('.leaf[data-field="process.executable"]');
  assert.equal(await exe.getAttribute('data-outcome'), 'true');
  assert.match(await exe.locator('.values').textContent(), /"\/tmp\/agent2"/);
  // Its join keys are there, with values.
  assert.match(await stage1.locator('.join-keys').textContent(), /host\.id = "host-3", process\.entity_id = "ent-10"/);

  // Line 10: the tmp* file is excluded from stage 2; its name is shown.
  await page.click('#event-rows tr[data-line="10"]');
  await page.waitForFunction(() => document.getElementById('explain-title').textContent === 'line 10');
  const stage2 = page.locator('#explanation .stage[data-stage="2"]');
  assert.equal(await stage2.getAttribute('data-passes'), 'false');
  const tmp = stage2.locator('.leaf', { hasText: 'file.name like "tmp*"' });
  assert.equal(await tmp.getAttribute('data-outcome'), 'true');
  assert.match(await tmp.locator('.values').textContent(), /"tmpa1b2c3"/);
  const cat = page.locator('#explanation .stage[data-stage="1"] .leaf[data-field="event.category"]');
  assert.equal(await cat.getAttribute('data-outcome'), 'false');

  // The page says what the API says.
  const line10 = (await page.inputValue('#events')).split('\n')[9];
  const api = new RuleEngine().explain(line10);
  const shown = await page.$$eval('#explanation .stage', (s) => s.map((x) => x.dataset.passes === 'true'));
  assert.deepEqual(shown, api.stages.map((s) => s.passes));

  // An alert's event link selects that event.
  await page.click('#alerts li.alert >> nth=1 >> text=line 11');
  await page.waitForFunction(() => document.getElementById('explain-title').textContent === 'line 11');
  assert.match(await page.textContent('#explanation .stage[data-stage="2"] h3'), /✓ Stage 2: passes/);
  assert.match(await page.textContent('#explanation .event-summary'), /in alert 2/);

  const shot = process.env.PLAYGROUND_SCREENSHOT;
  if (shot) {
    await page.click('#event-rows tr[data-line="10"]');
    await page.waitForFunction(() => document.getElementById('explain-title').textContent === 'line 10');
    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(path.dirname(path.resolve(shot)), { recursive: true });
    await page.screenshot({ path: shot, fullPage: false });
  }
});

test('a broken rule shows its error in place, with line and column', async () => {
  const good = await page.inputValue('#rule');
  const broken = good.replace('event.action == "connection_attempted"', 'event.action === "connection_attempted"');
  assert.notEqual(broken, good);
  let expected;
  try {
    new RuleEngine(broken);
  } catch (e) {
    expected = e;
  }
  assert.ok(expected && expected.line === 2, 'the API refuses it on line 2');

  await page.fill('#rule', broken);
  await page.waitForSelector('#rule-error:not([hidden])');
  const where = await page.textContent('#rule-error .where');
  assert.equal(where, `Line ${expected.line}, column ${expected.column}`);
  assert.equal(await page.textContent('#rule-error .reason'), expected.reason);
  assert.equal((await page.textContent('#rule-gutter .error-line')).trim(), '2');
  // The mark sits at that column of that line.
  const marked = await page.evaluate(() => {
    const mark = document.getElementById('error-mark');
    const before = document.createRange();
    before.setStart(document.getElementById('rule-backdrop'), 0);
    before.setEndBefore(mark);
    return { text: mark.textContent, before: before.toString() };
  });
  const lines = marked.before.split('\n');
  assert.equal(lines.length, expected.line);
  assert.equal([...lines.at(-1)].length + 1, expected.column);
  assert.ok(marked.text.length > 0);

  // Run refuses to run it.
  await page.click('#run');
  await page.waitForSelector('.status.bad');
  assert.match(await page.textContent('#status'), /does not compile/);

  // Clicking the place selects it in the editor.
  await page.click('#rule-error .where');
  const sel = await page.$eval('#rule', (t) => t.value.slice(0, t.selectionStart));
  assert.equal(sel.split('\n').length, expected.line);

  // Fixed, it compiles again.
  await page.fill('#rule', good);
  await page.waitForSelector('#rule-error', { state: 'hidden' });
  assert.equal(await page.locator('#rule-gutter .error-line').count(), 0);
  await page.click('#run');
  await page.waitForSelector('.status.good');
  assert.equal(await page.textContent('#alert-count'), '3');
});

test('a dropped file of events runs, refused lines shown', async () => {
  const sample = (await readFile(path.join(root, 'sample.ndjson'), 'utf8')).trim().split('\n');
  const dropped = [sample[0], '{not json', sample[1]].join('\n');
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'events.ndjson', { type: 'application/x-ndjson' }));
    const box = document.getElementById('events');
    box.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, dropped);
  await page.waitForSelector('.status.warn');
  assert.match(await page.textContent('#status'), /^1 alert from 2 events, 1 line refused/);
  assert.equal(await page.inputValue('#events'), dropped);
  const refused = page.locator('#event-rows tr.refused');
  assert.equal(await refused.getAttribute('data-line'), '2');
  assert.match(await refused.textContent(), /refused \(-4\): invalid JSON/);
  await refused.click();
  assert.match(await page.textContent('#explanation'), /Refused \(code -4, invalid_json\)/);

  // And back to the sample.
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('alert-count').textContent === '3');
});

test('"Make events that fire this rule" fills the events and fires the rule', async () => {
  const expected = RuleEngine.example(await page.inputValue('#rule'));
  await page.click('#make-example');
  await page.waitForFunction(() => document.getElementById('example-note').dataset.rule);
  assert.equal(await page.inputValue('#events'), expected.positives.join('\n') + '\n');
  await page.waitForSelector('.status.good');
  assert.match(await page.textContent('#status'), new RegExp(`^1 alert from ${expected.positives.length} events`));
  assert.equal(await page.textContent('#alert-count'), '1');
  assert.equal(await page.locator('#alerts li.alert').count(), 1);
  assert.equal(await page.textContent('#alerts li.alert .alert-head strong'), 'Network Connection Followed by File Creation');
  assert.deepEqual(await alertedLines(), expected.positives.map((_, i) => i + 1));
  assert.match(await page.textContent('#example-note'), /made to fire “Network Connection Followed by File Creation”/);

  // With near misses: appended as # comments, which the run skips.
  await page.check('#example-near-misses');
  await page.click('#make-example');
  await page.waitForFunction(() => /near misses below/.test(document.getElementById('example-note').textContent));
  const events = (await page.inputValue('#events')).split('\n');
  const comments = events.filter((l) => l.startsWith('#'));
  assert.equal(comments.filter((l) => l.startsWith('# near miss ')).length, expected.nearMisses.length);
  assert.equal(comments.length, expected.nearMisses.reduce((n, m) => n + 1 + m.events.length, 0));
  await page.waitForSelector('.status.good');
  assert.match(await page.textContent('#status'), new RegExp(`^1 alert from ${expected.positives.length} events · `));
  assert.equal(await page.locator('#event-rows tr.event-row').count(), expected.positives.length);
  await page.uncheck('#example-near-misses');

  // A rule with no example says why.
  await page.fill('#rule', 'process where false');
  await page.click('#make-example');
  await page.waitForSelector('#example-note.bad');
  assert.match(await page.textContent('#example-note'), /^No events can be made: stage 1: /);
  await page.click('#reset-rule');
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('alert-count').textContent === '3');
  assert.equal(await page.isHidden('#example-note'), true);
});

// The groups of alerts as the page shows them: rule name, count, alerts under it.
const shownGroups = () =>
  page.$$eval('#alerts li.rule-group', (groups) => groups.map((g) => ({
    name: g.querySelector('.rule-name').textContent,
    count: Number(g.querySelector('.group-head .count').textContent),
    alerts: g.querySelectorAll('li.alert').length,
  })));

// The bundled pack, and the Node build's engine over it, to cross-check.
const bundledPack = async () => {
  const bundle = JSON.parse(await readFile(path.join(root, 'pkg', 'linux-pack.json'), 'utf8'));
  return { bundle, api: RuleEngine.pack(bundle.rules.map((r) => r.text)) };
};

test('the bundled Linux pack runs the sample; alerts grouped by rule', async () => {
  const { bundle, api } = await bundledPack();
  assert.equal(bundle.count, 327);
  assert.equal(bundle.rules.length, 327);
  // What the API says of the same pack and events.
  const sample = await readFile(path.join(root, 'sample.ndjson'), 'utf8');
  assert.equal(api.rules.length, 327);
  api.pushEvents(sample);
  api.flush();
  const byRule = new Map();
  for (const a of api.drainAlerts()) byRule.set(a.rule.name, (byRule.get(a.rule.name) ?? 0) + 1);
  assert.equal(byRule.get('Network Connection Followed by File Creation'), 3);
  assert.ok(byRule.size >= 2, 'the sample fires more than the one rule');

  await page.click('#load-pack');
  await page.waitForSelector('#pack:not([hidden])');
  await page.waitForSelector('#alerts li.rule-group');
  assert.equal(await page.isHidden('#rule-editor'), true);
  assert.match(await page.textContent('#pack-count'), /^327 rules loaded \(of 327\), none refused/);
  assert.equal(await page.locator('#pack-refused li').count(), 0);
  const total = [...byRule.values()].reduce((x, y) => x + y, 0);
  assert.match(await page.textContent('#status'), new RegExp(`^${total} alerts from 25 events · ${byRule.size} of 327 rules fired`));
  assert.equal(await page.textContent('#alert-count'), String(total));
  const groups = await shownGroups();
  assert.deepEqual(
    groups.map((g) => [g.name, g.count]).sort(),
    [...byRule.entries()].sort());
  assert.ok(groups.every((g) => g.count === g.alerts));
  assert.equal(groups[0].name, 'Network Connection Followed by File Creation', 'most alerts first');
  // The explain select lists the pack's rules, the first alert's picked.
  assert.equal(await page.locator('#explain-rule option').count(), 327);
  assert.match(await page.$eval('#explain-rule', (s) => s.selectedOptions[0].textContent), /Network Connection Followed by File Creation — ⚑3$/);
  assert.equal(await page.locator('#pack-rule-list li').count(), 327);
});

test('explain per rule: pick a rule, its stages judge the event', async () => {
  // The netcon rule is picked: line 14 as in single-rule mode.
  await page.click('#event-rows tr[data-line="14"]');
  await page.waitForFunction(() => document.getElementById('explain-title').textContent.startsWith('line 14 · '));
  assert.equal(await page.textContent('#explain-title'), 'line 14 · Network Connection Followed by File Creation');
  assert.equal(await page.locator('#explanation .stage').count(), 2);
  assert.equal(await page.getAttribute('#explanation .stage[data-stage="1"]', 'data-passes'), 'false');

  // Another rule that fired: its group's button picks it, and its alert's
  // event is explained by it, as the API does.
  const other = page.locator('#alerts li.rule-group').nth(1);
  const name = await other.locator('.rule-name').textContent();
  await other.locator('.explain-with').click();
  await page.waitForFunction((n) => document.getElementById('explain-title').textContent.endsWith(` · ${n}`), name);
  const index = Number(await page.inputValue('#explain-rule'));
  const { api } = await bundledPack();
  assert.equal(api.rules[index].name, name);
  const link = other.locator('li.alert .seq button').first();
  const line = Number((await link.textContent()).replace('line ', ''));
  await link.click();
  await page.waitForFunction((t) => document.getElementById('explain-title').textContent === t, `line ${line} · ${name}`);
  const raw = (await page.inputValue('#events')).split('\n')[line - 1];
  const expected = api.explainRule(index, raw);
  const shown = await page.$$eval('#explanation .stage', (s) => s.map((x) => x.dataset.passes === 'true'));
  assert.deepEqual(shown, expected.stages.map((s) => s.passes));
  assert.ok(shown.some(Boolean), 'a stage of the rule passes the event of its alert');
  assert.ok((await page.locator('#explanation .leaf, #explanation .group').count()) > 0, 'the tree is rendered');
  // The stage badges of the list are this rule's.
  const badges = await page.$$eval(`#event-rows tr[data-line="${line}"] .stage-badge`, (b) => b.length);
  assert.equal(badges, expected.stages.length);

  // The select picks a rule too: back to the netcon rule, line 10 fails stage 2.
  const netcon = api.rules.findIndex((r) => r.name === 'Network Connection Followed by File Creation');
  await page.selectOption('#explain-rule', String(netcon));
  await page.click('#event-rows tr[data-line="10"]');
  await page.waitForFunction(() => document.getElementById('explain-title').textContent === 'line 10 · Network Connection Followed by File Creation');
  assert.ok(await page.locator('#explanation .stage[data-stage="2"] .leaf', { hasText: 'file.name like "tmp*"' }).count() >= 1);
  assert.equal(await page.getAttribute('#explanation .stage[data-stage="2"]', 'data-passes'), 'false');
});

test('in a pack, "Make events that fire this rule" fires the rule picked', async () => {
  const { bundle, api } = await bundledPack();
  // A sequence rule of the pack (two stages or more), not the netcon one.
  const index = api.rules.findIndex((r, i) =>
    r.name !== 'Network Connection Followed by File Creation'
    && api.explainRule(i, '{"@timestamp":0}').stages.length >= 2);
  assert.ok(index >= 0);
  const name = api.rules[index].name;
  const expected = RuleEngine.example(bundle.rules[index].text);
  await page.selectOption('#explain-rule', String(index));
  await page.click('#make-example');
  await page.waitForFunction((n) => document.getElementById('example-note').dataset.rule === n, name);
  assert.equal(await page.inputValue('#events'), expected.positives.join('\n') + '\n');
  await page.waitForSelector('#alerts li.rule-group');
  // The page's groups are the API pack's on the same events; the rule is among them.
  api.pushEvents(expected.positives.join('\n'));
  api.flush();
  const byRule = new Map();
  for (const a of api.drainAlerts()) byRule.set(a.rule.name, (byRule.get(a.rule.name) ?? 0) + 1);
  assert.ok(byRule.get(name) >= 1, `${name} fires in the API's pack`);
  const groups = await shownGroups();
  assert.deepEqual(groups.map((g) => [g.name, g.count]).sort(), [...byRule.entries()].sort());
  assert.ok(groups.some((g) => g.name === name && g.alerts >= 1));
  // The rule stays picked for the explanation.
  assert.equal(await page.inputValue('#explain-rule'), String(index));
  assert.ok((await page.textContent('#explain-title')).endsWith(` · ${name}`));
  await page.click('#load-sample');
  await page.waitForFunction(() => /^\d+ alerts from 25 events/.test(document.getElementById('status').textContent));
});

test('several rule files make a pack; refused ones listed with their reason', async () => {
  const file = (name, text) => ({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.setInputFiles('#rule-files', [
    file('netcon.toml', RuleEngine.embeddedToml()),
    file('curl.eql', 'network where event.action == "connection_attempted" and process.name == "curl"\n'),
    file('broken.toml', '[rule]\nrule_id = "b-1"\nname = "Broken"\nlanguage = "eql"\nquery = """process where"""\n'),
    file('not-a-rule.toml', '[rule\n'),
  ]);
  await page.waitForFunction(() => document.getElementById('pack-title').textContent === 'A pack of 4 files');
  await page.waitForSelector('#alerts li.rule-group');
  assert.match(await page.textContent('#pack-count'), /^2 rules loaded, 2 refused \(of 4\):/);
  const refused = await page.$$eval('#pack-refused li', (items) => items.map((li) => ({
    name: li.querySelector('strong').textContent,
    reason: li.querySelector('.reason').textContent,
  })));
  // A rule whose TOML reads is named; one that does not, by its file's name.
  assert.equal(refused.length, 2, JSON.stringify(refused));
  assert.ok(refused.some((r) => r.name.startsWith('Broken') && r.reason.length > 0), JSON.stringify(refused));
  assert.ok(refused.some((r) => r.name === 'not-a-rule.toml' && r.reason.length > 0), JSON.stringify(refused));
  // A bare EQL file is named after its file: its alerts are its own.
  const groups = await shownGroups();
  assert.deepEqual(groups.map((g) => [g.name, g.count]), [['Network Connection Followed by File Creation', 3], ['curl.eql', 1]]);
  assert.deepEqual(await page.$$eval('#explain-rule option', (o) => o.map((x) => x.textContent)),
    ['1. Network Connection Followed by File Creation — ⚑3', '2. curl.eql — ⚑1']);

  // Back to the single rule: the editor, the flat list of three alerts.
  await page.click('#reset-rule');
  await page.waitForSelector('#rule-editor:not([hidden])');
  await page.waitForFunction(() => document.getElementById('alert-count').textContent === '3');
  assert.equal(await page.isHidden('#pack'), true);
  assert.equal(await page.isHidden('#explain-rule-box'), true);
  assert.equal(await page.locator('#alerts li.rule-group').count(), 0);
  assert.equal(await page.locator('#alerts li.alert').count(), 3);
  assert.match(await page.textContent('#rule-ok'), /compiles: 2 stages/);
});

test('nothing went wrong in the page, and nothing left the machine', () => {
  assert.deepEqual(problems, []);
});
