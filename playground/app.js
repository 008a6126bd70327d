// The playground: plain JavaScript over the rule-js web build in ./pkg
// (scripts/build-js.sh puts it there). No bundler, no framework.
import init, { RuleEngine } from './pkg/rule_js.js';

const $ = (id) => document.getElementById(id);
const ui = {
  rule: $('rule'),
  gutter: $('rule-gutter'),
  backdrop: $('rule-backdrop'),
  ruleError: $('rule-error'),
  ruleOk: $('rule-ok'),
  events: $('events'),
  reorder: $('reorder'),
  run: $('run'),
  status: $('status'),
  alerts: $('alerts'),
  alertCount: $('alert-count'),
  rows: $('event-rows'),
  explanation: $('explanation'),
  explainTitle: $('explain-title'),
  editor: $('rule-editor'),
  pack: $('pack'),
  packTitle: $('pack-title'),
  packSource: $('pack-source'),
  packCount: $('pack-count'),
  packRefused: $('pack-refused'),
  packRuleList: $('pack-rule-list'),
  stagesHead: $('stages-head'),
  explainRuleBox: $('explain-rule-box'),
  explainRule: $('explain-rule'),
  makeExample: $('make-example'),
  exampleNearMisses: $('example-near-misses'),
  exampleNote: $('example-note'),
};

/**
 * The last run: its engine (kept for explain), its events by line, and in
 * pack mode the pack's rules and the one the explanation and the stage
 * badges are about (`ruleIndex`, its place in `engine.rules`).
 */
let current = { engine: null, events: [], selected: null, rules: [], ruleIndex: 0 };
let ruleError = null;
/**
 * Pack mode when set: `{ title, source, texts, names }` (each text a rule,
 * EQL or TOML; `names` say where each came from, a file name or a path).
 * Unset: the editor's one rule (the default).
 */
let pack = null;
/** The pack's rule the user picked last (kept across runs of the same pack). */
let pickedRule = null;

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const first = (v) => (Array.isArray(v) ? v.join(', ') : v);
const shortTime = (ts) => (typeof ts === 'string' ? ts.replace(/^\d{4}-\d\d-\d\dT/, '').replace(/Z$/, '') : String(ts ?? ''));

/** Splits text into lines, as the engine counts them (1-based, `\n`). */
function lines(text) {
  return text.split('\n');
}

/** A `#` line of the events box is a comment (no JSON event starts with `#`). */
const isComment = (line) => line.trimStart().startsWith('#');

/** UTF-16 offset in `text` of a 1-based line and column counted in characters. */
function offsetOf(text, line, column) {
  const all = lines(text);
  let offset = 0;
  for (let i = 0; i < line - 1 && i < all.length; i++) offset += all[i].length + 1;
  const chars = [...(all[line - 1] ?? '')].slice(0, Math.max(0, column - 1));
  return offset + chars.join('').length;
}

// ---------------------------------------------------------------- rule editor

function renderEditor() {
  const text = ui.rule.value;
  const count = lines(text).length;
  const errLine = ruleError?.line;
  ui.gutter.replaceChildren(
    ...Array.from({ length: count }, (_, i) =>
      el('span', { class: i + 1 === errLine ? 'error-line' : null, text: `${i + 1}\n` })),
  );
  // The backdrop mirrors the text, with the error's place marked.
  if (ruleError?.line) {
    const at = offsetOf(text, ruleError.line, ruleError.column);
    const rest = text.slice(at);
    const token = (rest.match(/^(\S+?)(?=[\s()[\],]|$)/) || rest.match(/^\S/) || [''])[0] || ' ';
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    const lineEnd = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at);
    ui.backdrop.replaceChildren(
      text.slice(0, lineStart),
      el('span', { class: 'error-row' },
        text.slice(lineStart, at),
        el('mark', { id: 'error-mark', text: rest.startsWith('\n') || rest === '' ? ' ' : token }),
        text.slice(at + (rest.startsWith('\n') || rest === '' ? 0 : token.length), lineEnd)),
      text.slice(lineEnd) + '\n',
    );
  } else {
    ui.backdrop.textContent = text + '\n';
  }
  syncScroll();
}

function syncScroll() {
  ui.backdrop.scrollTop = ui.rule.scrollTop;
  ui.backdrop.scrollLeft = ui.rule.scrollLeft;
  ui.gutter.scrollTop = ui.rule.scrollTop;
}

/** Scrolls the editor so that the error's mark is in view. */
function revealError() {
  const mark = document.getElementById('error-mark');
  if (!mark) return;
  const box = ui.rule;
  if (mark.offsetTop < box.scrollTop || mark.offsetTop > box.scrollTop + box.clientHeight - 24) {
    box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 2);
  }
  if (mark.offsetLeft < box.scrollLeft || mark.offsetLeft > box.scrollLeft + box.clientWidth - 40) {
    box.scrollLeft = Math.max(0, mark.offsetLeft - box.clientWidth / 2);
  }
  syncScroll();
}

/**
 * Compiles the rule text; shows the error in place (and, with `reveal`,
 * scrolls to it). Returns an engine or null.
 */
function compile({ reveal = false } = {}) {
  const reorderWindowMs = Math.max(0, Math.floor(Number(ui.reorder.value) || 0));
  if (pack) return compilePack(reorderWindowMs);
  try {
    const engine = new RuleEngine(ui.rule.value, { reorderWindowMs });
    ruleError = null;
    ui.ruleError.hidden = true;
    ui.ruleOk.hidden = false;
    const stages = engine.explain('{"@timestamp":0}').stages.length;
    ui.ruleOk.textContent = `✓ compiles: ${stages} stage${stages === 1 ? '' : 's'} · alerts as “${engine.ruleMeta.name}”`;
    renderEditor();
    return engine;
  } catch (e) {
    ruleError = { line: e.line, column: e.column, reason: e.reason || e.message, message: e.message, code: e.code };
    ui.ruleOk.hidden = true;
    ui.ruleError.hidden = false;
    const where = e.line ? `Line ${e.line}, column ${e.column}` : 'Rule';
    ui.ruleError.replaceChildren(
      el('button', {
        type: 'button',
        class: 'where',
        text: where,
        title: 'Go there',
        onclick: () => {
          if (!e.line) return;
          const at = offsetOf(ui.rule.value, e.line, e.column);
          ui.rule.focus();
          ui.rule.setSelectionRange(at, at + 1);
          revealError();
        },
      }),
      el('pre', { class: 'reason', text: ruleError.reason }),
    );
    ui.ruleError.dataset.line = e.line ?? '';
    ui.ruleError.dataset.column = e.column ?? '';
    renderEditor();
    if (reveal) revealError();
    return null;
  }
}

// ---------------------------------------------------------------- pack

/** Shows the pack panel instead of the editor (or back, `pack` unset). */
function showMode() {
  ui.editor.hidden = Boolean(pack);
  ui.pack.hidden = !pack;
  ui.explainRuleBox.hidden = !pack;
  ui.stagesHead.title = pack ? 'the stages of the rule picked for the explanation' : '';
  if (pack) {
    ui.ruleOk.hidden = true;
    ui.ruleError.hidden = true;
    ui.packTitle.textContent = pack.title;
    ui.packSource.textContent = pack.source;
  } else {
    renderEditor();
  }
}

/** Where the pack's text `i` came from, for a refused rule without a name. */
function refusedName(r) {
  const m = /^ruleTexts\[(\d+)\]$/.exec(r.name);
  if (m) return pack.names[Number(m[1])] ?? r.name;
  return r.id ? `${r.name} (${r.id})` : r.name;
}

/** Builds the pack's engine; shows how many rules run and which are refused, and why. */
function compilePack(reorderWindowMs) {
  let engine;
  try {
    engine = RuleEngine.pack(pack.texts, { reorderWindowMs });
  } catch (e) {
    ui.ruleError.hidden = false;
    ui.ruleError.replaceChildren(el('strong', { class: 'where', text: 'Pack' }), el('pre', { class: 'reason', text: e.message }));
    ui.packCount.textContent = `No rule of the ${pack.texts.length} compiles.`;
    ui.packRefused.replaceChildren();
    ui.packRuleList.replaceChildren();
    return null;
  }
  ui.ruleError.hidden = true;
  const rules = engine.rules;
  const refused = engine.stats().refusedRules ?? [];
  ui.packCount.replaceChildren(
    el('strong', { text: `${rules.length} rule${rules.length === 1 ? '' : 's'} loaded` }),
    refused.length ? `, ${refused.length} refused (of ${pack.texts.length}):` : ` (of ${pack.texts.length}), none refused`);
  ui.packCount.dataset.rules = rules.length;
  ui.packCount.dataset.refused = refused.length;
  ui.packRefused.replaceChildren(...refused.map((r) => el('li', { class: 'refused-rule' },
    el('strong', { text: refusedName(r) }), el('pre', { class: 'reason', text: r.error }))));
  return engine;
}

/** The pack's rules in the select of the explanation and in the list, with their alert counts. */
function renderPackRules(rules, stats) {
  const counts = stats.rules ?? [];
  const label = (r, i) => `${i + 1}. ${r.name}${counts[i]?.alerts ? ` — ⚑${counts[i].alerts}` : ''}`;
  ui.explainRule.replaceChildren(...rules.map((r, i) => el('option', { value: i, text: label(r, i) })));
  ui.explainRule.value = String(current.ruleIndex);
  ui.packRuleList.replaceChildren(...rules.map((r, i) => el('li', { 'data-rule': i },
    el('button', { type: 'button', class: 'link', text: r.name, title: 'explain with this rule', onclick: () => pickRule(i) }),
    ' ', el('span', { class: 'hint', text: [r.severity, counts[i]?.alerts ? `${counts[i].alerts} alert${counts[i].alerts === 1 ? '' : 's'}` : ''].filter(Boolean).join(' · ') }))));
}

/** Makes the pack's rule `i` the one explained and badged; re-explains the selected event. */
function pickRule(i) {
  if (!pack || !current.engine || i < 0 || i >= current.rules.length) return;
  current.ruleIndex = i;
  pickedRule = { pack, id: current.rules[i].id, index: i };
  ui.explainRule.value = String(i);
  stageVerdicts(current.engine, current.events);
  renderEvents(current.events);
  if (current.selected) select(current.selected);
  else ui.explainTitle.textContent = `pick an event · ${current.rules[i].name}`;
}

/** The place in `rules` of an alert's rule. */
function ruleIndexOf(alert) {
  const i = current.rules.findIndex((r) => r.id === alert.rule?.id && r.name === alert.rule?.name);
  return i >= 0 ? i : current.rules.findIndex((r) => r.id === alert.rule?.id);
}

let linuxPack = null;
/** The bundled pack (playground/pkg/linux-pack.json, made by scripts/build-js.sh). */
async function loadLinuxPack() {
  if (!linuxPack) {
    let res;
    try {
      res = await fetch('./pkg/linux-pack.json');
    } catch {
      res = null;
    }
    if (!res?.ok) {
      ui.status.className = 'status bad';
      ui.status.textContent = 'The Linux pack is not bundled (pkg/linux-pack.json): scripts/build-js.sh makes it from ../shared/detection-rules.';
      return;
    }
    linuxPack = await res.json();
  }
  pack = {
    title: `Elastic's Linux + Defend pack`,
    source: `elastic/detection-rules, ${linuxPack.license}`,
    texts: linuxPack.rules.map((r) => r.text),
    names: linuxPack.rules.map((r) => r.path),
  };
  showMode();
  run();
}

/** Whether a rule text is TOML (as rule-js decides: a first `[section]` line, or a `[rule]` one). */
function looksLikeToml(text) {
  const firstLine = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  return Boolean(firstLine?.startsWith('[')) || text.split('\n').some((l) => l.trim() === '[rule]' || l.trim() === '[metadata]');
}

/**
 * A file's rule for a pack. Bare EQL would carry the embedded rule's id and
 * name (so its alerts could not be told from that rule's): it goes in as a
 * TOML rule named after its file.
 */
function packText(text, fileName) {
  if (looksLikeToml(text)) return text;
  const name = JSON.stringify(fileName);
  return `[rule]\nrule_id = ${name}\nname = ${name}\nlanguage = "eql"\nquery = ${JSON.stringify(text)}\n`;
}

/** Rule files picked or dropped: several make a pack, one opens in the editor. */
async function loadRuleFiles(fileList) {
  const files = [...(fileList ?? [])];
  if (!files.length) return;
  const texts = await Promise.all(files.map((f) => f.text()));
  if (files.length === 1) {
    pack = null;
    ui.rule.value = texts[0];
  } else {
    pack = {
      title: `A pack of ${files.length} files`,
      source: '',
      texts: texts.map((t, i) => packText(t, files[i].name)),
      names: files.map((f) => f.name),
    };
  }
  showMode();
  run();
}

// ---------------------------------------------------------------- example

/**
 * The text of the pack's rule `i` (its place in `current.rules`): rules
 * that do not compile are left out of `rules`, so it is found by its id
 * and name (the k-th rule of that id and name is the k-th such text).
 */
function packRuleText(i) {
  const target = current.rules[i];
  if (!target) return null;
  const bare = /^ruleTexts\[(\d+)\]$/.exec(target.id);
  if (bare) return pack.texts[Number(bare[1])] ?? null;
  let k = current.rules.slice(0, i).filter((r) => r.id === target.id && r.name === target.name).length;
  const likely = pack.texts.filter((t) => t.includes(target.id));
  for (const text of likely.length ? likely : pack.texts) {
    let meta = null;
    try {
      const engine = new RuleEngine(text);
      meta = engine.ruleMeta;
      engine.free();
    } catch {
      continue;
    }
    if (meta.id === target.id && meta.name === target.name && k-- === 0) return text;
  }
  return null;
}

/**
 * "Make events that fire this rule": rule-js's `RuleEngine.example` for
 * the editor's rule (in a pack, the rule picked for the explanation)
 * replaces the events, near misses appended as `#` comments if asked; then
 * runs them.
 */
function makeExample() {
  let text;
  let name;
  if (pack) {
    if (!current.engine || !current.rules.length) return exampleNote('The pack does not compile: no rule to make events for.', true);
    const i = current.ruleIndex;
    text = packRuleText(i);
    name = current.rules[i].name;
    if (text === null) return exampleNote(`The text of “${name}” was not found in the pack.`, true);
    // Keep this rule picked: the run explains with it.
    pickedRule = { pack, id: current.rules[i].id, index: i };
  } else {
    text = ui.rule.value;
  }
  let example;
  try {
    example = RuleEngine.example(text);
  } catch (e) {
    if (!pack && e.kind === 'rule') { compile({ reveal: true }); return exampleNote('The rule does not compile: fix it first.', true); }
    return exampleNote(e.kind === 'example' ? `No events can be made: ${e.reason}` : e.message, true);
  }
  if (!pack) {
    try {
      const engine = new RuleEngine(text);
      name = engine.ruleMeta.name;
      engine.free();
    } catch {
      name = 'the rule';
    }
  }
  const out = [...example.positives];
  const withMisses = ui.exampleNearMisses.checked;
  if (withMisses) {
    example.nearMisses.forEach((miss, n) => {
      out.push('', `# near miss ${n + 1} (no alert on its own): ${miss.what}`, ...miss.events.map((e) => `# ${e}`));
    });
  }
  ui.events.value = out.join('\n') + '\n';
  run();
  const count = example.positives.length;
  exampleNote(`${count} event${count === 1 ? '' : 's'} made to fire “${name}”` +
    (withMisses ? `; ${example.nearMisses.length} near misses below as # comments (each fires nothing alone: run one in place of the events above)` : ''), false);
  ui.exampleNote.dataset.rule = name;
  ui.exampleNote.dataset.events = count;
}

function exampleNote(text, bad) {
  ui.exampleNote.hidden = false;
  ui.exampleNote.className = bad ? 'example-note bad' : 'example-note';
  ui.exampleNote.textContent = text;
  delete ui.exampleNote.dataset.rule;
  delete ui.exampleNote.dataset.events;
}

// ---------------------------------------------------------------- run

function run() {
  const engine = compile({ reveal: true });
  const outputs = document.querySelector('.outputs');
  if (!engine) {
    ui.status.className = 'status bad';
    ui.status.textContent = 'The rule does not compile: fix it to run. (Results below are from the last run.)';
    outputs.classList.add('stale');
    return;
  }
  outputs.classList.remove('stale');
  current.engine?.free();
  const text = ui.events.value;
  const started = performance.now();
  let report;
  try {
    // Comment lines go in blank, so that line numbers stay the box's.
    report = engine.pushEvents(lines(text).map((l) => (isComment(l) ? '' : l)).join('\n'));
  } catch (e) {
    ui.status.className = 'status bad';
    ui.status.textContent = `Events refused: ${e.message}`;
    engine.free();
    current.engine = null;
    return;
  }
  engine.flush();
  const alerts = engine.drainAlerts();
  const ms = performance.now() - started;
  const stats = engine.stats();

  // The events, by line; refused ones keep their reason.
  const refused = new Map(report.refused.map((r) => [r.line, r]));
  const events = [];
  lines(text).forEach((raw, i) => {
    if (raw.trim() === '' || isComment(raw)) return;
    const line = i + 1;
    let parsed = null;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* shown as refused */
    }
    events.push({ line, raw, parsed, refused: refused.get(line) ?? null, alerts: [] });
  });
  // Which alert each event is part of: alerts hold the events as pushed.
  const byText = new Map();
  for (const ev of events) if (ev.parsed && !ev.refused) {
    const key = JSON.stringify(ev.parsed);
    if (!byText.has(key)) byText.set(key, []);
    byText.get(key).push(ev);
  }
  alerts.forEach((alert, n) => {
    alert._lines = (alert.Events ?? []).map((e) => {
      const evs = byText.get(JSON.stringify(e)) ?? [];
      evs.forEach((ev) => ev.alerts.includes(n + 1) || ev.alerts.push(n + 1));
      return evs[0]?.line;
    });
  });
  // In a pack, the rule explained: the one picked last in this pack, else
  // the first alert's, else the first.
  const rules = pack ? engine.rules : [];
  current = { engine, events, selected: null, rules, ruleIndex: 0 };
  if (pack) {
    const kept = pickedRule?.pack === pack && rules[pickedRule.index]?.id === pickedRule.id ? pickedRule.index : -1;
    current.ruleIndex = kept >= 0 ? kept : Math.max(0, alerts.length ? ruleIndexOf(alerts[0]) : 0);
    renderPackRules(rules, stats);
  }
  stageVerdicts(engine, events);
  renderAlerts(alerts);
  renderEvents(events);
  ui.explanation.replaceChildren(el('p', { class: 'empty', text: 'Click an event above to see how each stage judges it.' }));
  ui.explainTitle.textContent = 'pick an event';

  ui.status.className = report.refused.length ? 'status warn' : 'status good';
  const fired = (stats.rules ?? []).filter((r) => r.alerts > 0).length;
  ui.status.replaceChildren(
    el('strong', { text: `${alerts.length} alert${alerts.length === 1 ? '' : 's'}` }),
    ` from ${report.taken} event${report.taken === 1 ? '' : 's'}`,
    report.refused.length ? `, ${report.refused.length} line${report.refused.length === 1 ? '' : 's'} refused` : '',
    pack
      ? ` · ${fired} of ${rules.length} rule${rules.length === 1 ? '' : 's'} fired`
      : ` · per stage: ${stats.stageMatches.join(' / ')} passed`,
    ` · ${ms.toFixed(1)} ms`,
  );
  const firstAlerted = events.find((e) => e.alerts.length);
  if (firstAlerted && !current.selected) select(firstAlerted);
}

/**
 * Stage verdicts for the list (bounded, so a big file stays quick): of the
 * rule, or in a pack of the rule picked for the explanation.
 */
function stageVerdicts(engine, events) {
  const EXPLAIN_LIST_MAX = 5000;
  events.forEach((ev, i) => {
    ev.stages = null;
    if (ev.refused || i >= EXPLAIN_LIST_MAX) return;
    try {
      const explanation = pack ? engine.explainRule(current.ruleIndex, ev.raw) : engine.explain(ev.raw);
      ev.stages = explanation.stages.map((s) => (s.joins ? 'joins' : s.passes ? 'passes' : 'fails'));
    } catch {
      ev.stages = null;
    }
  });
}

function renderAlerts(alerts) {
  ui.alertCount.textContent = String(alerts.length);
  if (!alerts.length) {
    ui.alerts.replaceChildren(el('li', { class: 'empty', text: pack ? 'No alert: no rule of the pack fired.' : 'No alert: no sequence completed.' }));
    return;
  }
  if (!pack) {
    ui.alerts.replaceChildren(...alerts.map((a, n) => renderAlert(a, n)));
    return;
  }
  // A pack: the alerts grouped by their rule, most alerts first.
  const groups = new Map();
  alerts.forEach((a, n) => {
    const index = ruleIndexOf(a);
    if (!groups.has(index)) groups.set(index, { index, name: a.rule?.name ?? a.message, items: [] });
    groups.get(index).items.push(renderAlert(a, n, { grouped: true, ruleIndex: index }));
  });
  const sorted = [...groups.values()].sort((x, y) => y.items.length - x.items.length || x.index - y.index);
  ui.alerts.replaceChildren(...sorted.map((g) => el('li', { class: 'rule-group', 'data-rule': g.index },
    el('div', { class: 'group-head' },
      el('strong', { class: 'rule-name', text: g.name }),
      el('span', { class: 'count', text: g.items.length }),
      el('button', { type: 'button', class: 'link explain-with', text: 'explain with this rule', onclick: () => pickRule(g.index) })),
    el('ol', { class: 'alerts' }, g.items))));
}

function renderAlert(a, n, { grouped = false, ruleIndex = -1 } = {}) {
  const keys = Object.entries(a)
    .filter(([k]) => !['@timestamp', 'event', 'message', 'rule', 'threat', 'kibana', 'Events', '_lines'].includes(k))
    .flatMap(([k, v]) => flatten(k, v));
  return el('li', { class: 'alert', 'data-alert': n + 1 },
    el('div', { class: 'alert-head' },
      el('span', { class: 'sev', text: a.kibana?.alert?.severity ?? '' }),
      grouped ? el('span', { class: 'alert-num', text: `alert ${n + 1}` }) : el('strong', { text: a.rule?.name ?? a.message }),
      el('time', { text: a['@timestamp'] })),
    el('div', { class: 'keys' }, keys.map(([k, v]) => el('span', { class: 'key' }, el('code', { text: k }), ' ', v))),
    el('ol', { class: 'seq' }, (a.Events ?? []).map((e, i) => el('li', {},
      el('button', {
        type: 'button',
        class: 'link',
        onclick: () => {
          const ev = current.events.find((x) => x.line === a._lines[i]);
          if (grouped && ruleIndex >= 0 && ruleIndex !== current.ruleIndex) { current.selected = null; pickRule(ruleIndex); }
          if (ev) select(ev);
        },
      }, a._lines[i] ? `line ${a._lines[i]}` : 'event'),
      ` ${first(get(e, 'event.category')) ?? ''} · ${get(e, 'event.action') ?? ''} · `,
      el('code', { text: get(e, 'file.path') ?? get(e, 'destination.ip') ?? get(e, 'process.executable') ?? '' })))),
    el('details', {}, el('summary', { text: 'alert JSON' }), el('pre', { text: JSON.stringify({ ...a, _lines: undefined }, null, 2) })));
}

function flatten(prefix, value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(`${prefix}.${k}`, v));
  }
  return [[prefix, String(value)]];
}

const STAGE_MARK = { joins: '✓', passes: '◐', fails: '✗' };
const STAGE_TITLE = {
  joins: 'passes and joins',
  passes: 'passes, but a join key is missing',
  fails: 'does not pass',
};

function renderEvents(events) {
  if (!events.length) {
    ui.rows.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'empty', text: 'No events: paste NDJSON or drop a file.' })));
    return;
  }
  ui.rows.replaceChildren(...events.map((ev) => {
    const p = ev.parsed ?? {};
    const row = el('tr', {
      class: ['event-row', ev.refused ? 'refused' : '', ev.alerts.length ? 'alerted' : ''].join(' ').trim(),
      'data-line': ev.line,
      tabindex: 0,
      onclick: () => select(ev),
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(ev); } },
    },
    el('td', { class: 'num', text: ev.line }),
    el('td', { class: 'time', text: shortTime(p['@timestamp']) }),
    ev.refused
      ? el('td', { colspan: 2, class: 'why', text: `refused (${ev.refused.code}): ${ev.refused.message}` })
      : el('td', { class: 'what', title: `${first(get(p, 'event.category')) ?? '?'} · ${get(p, 'event.action') ?? ''}` }, el('strong', { text: first(get(p, 'event.category')) ?? '?' }), el('small', { text: get(p, 'event.action') ?? '' })),
    ev.refused ? null : el('td', {}, el('code', { text: get(p, 'process.executable') ?? '' })),
    el('td', { class: 'stages' },
      (ev.stages ?? []).map((s, i) => el('span', { class: `stage-badge ${s}`, title: `stage ${i + 1}: ${STAGE_TITLE[s]}`, text: `${i + 1}${STAGE_MARK[s]}` })),
      ev.alerts.map((n) => el('span', { class: 'alert-badge', title: `part of alert ${n}`, text: `⚑${n}` }))));
    ev.row = row;
    return row;
  }));
}

// ---------------------------------------------------------------- explain

function select(ev) {
  current.selected = ev;
  for (const r of ui.rows.querySelectorAll('tr.selected')) r.classList.remove('selected');
  ev.row?.classList.add('selected');
  const rule = pack ? current.rules[current.ruleIndex] : null;
  ui.explainTitle.textContent = rule ? `line ${ev.line} · ${rule.name}` : `line ${ev.line}`;
  if (!current.engine) return;
  let explanation;
  try {
    explanation = rule ? current.engine.explainRule(current.ruleIndex, ev.raw) : current.engine.explain(ev.raw);
  } catch (e) {
    ui.explanation.replaceChildren(el('p', { class: 'refused-why' },
      el('strong', { text: `Refused (code ${e.code}, ${e.kind}): ` }), e.message.replace(/^event refused: /, '')),
    el('pre', { class: 'raw', text: ev.raw }));
    return;
  }
  const p = ev.parsed ?? {};
  ui.explanation.replaceChildren(
    el('p', { class: 'event-summary' },
      el('code', { text: `${first(get(p, 'event.category')) ?? '?'} · ${get(p, 'event.action') ?? ''}` }),
      ` at ${explanation.time ?? 'no time'}`,
      ev.alerts.length ? el('span', { class: 'alert-badge', text: `in alert ${ev.alerts.join(', ')}` }) : null),
    ...explanation.stages.map(renderStage),
    el('details', { class: 'raw' }, el('summary', { text: 'event JSON' }), el('pre', { text: ev.parsed ? JSON.stringify(ev.parsed, null, 2) : ev.raw })),
  );
}

function renderStage(stage) {
  const verdict = stage.joins ? 'joins' : stage.passes ? 'passes' : 'fails';
  const missingKeys = stage.joinKeys.filter((k) => k.values.length === 0);
  return el('section', { class: `stage ${verdict}`, 'data-stage': stage.stage + 1, 'data-passes': String(stage.passes) },
    el('h3', {},
      el('span', { class: 'verdict', text: stage.passes ? '✓' : '✗' }),
      ` Stage ${stage.stage + 1}: `,
      stage.joins ? 'passes' : stage.passes ? 'passes, but takes no part (a join key is missing)' : 'does not pass'),
    stage.joinKeys.length
      ? el('p', { class: 'join-keys' }, 'by ', stage.joinKeys.map((k, i) => [i ? ', ' : '',
        el('code', { text: k.field }), ' = ', k.values.length ? el('span', { class: 'value', text: k.values.map(fmt).join(' | ') }) : el('span', { class: 'missing', text: 'missing' })]),
      missingKeys.length && stage.passes ? ' (no sequence without a key)' : '')
      : null,
    el('div', { class: 'tree' }, renderNode(stage.filter)));
}

/** A predicate longer than this is shown cut (click shows it all). */
const LONG_TEST = 140;
const fmt = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function renderNode(node) {
  switch (node.node) {
    case 'and':
    case 'or':
      return el('div', { class: `group ${node.result ? 'yes' : 'no'}` },
        el('div', { class: 'op' }, mark(node.result), node.node === 'and' ? ' all of' : ' any of'),
        el('ul', {}, node.children.map((c) => el('li', {}, renderNode(c)))));
    case 'not':
      return el('div', { class: `group ${node.result ? 'yes' : 'no'}` },
        el('div', { class: 'op' }, mark(node.result), ' not'),
        el('ul', {}, el('li', {}, renderNode(node.child))));
    case 'const':
      return el('div', { class: `leaf ${node.result ? 'outcome-true' : 'outcome-false'}` }, mark(node.result), ` ${node.result}`);
    case 'script':
      // A computed condition (functions, arithmetic): every field it reads, with its values.
      return el('div', { class: `leaf script outcome-${node.result}`, 'data-outcome': String(node.result) },
        mark(node.result),
        el('div', { class: 'body' },
          el('code', { class: 'test', text: node.test }),
          ' ',
          el('span', { class: 'values' }, node.fields.map((f) => el('span', { class: 'field-values' },
            `${f.field} = `,
            f.values.length === 0
              ? el('span', { class: 'missing', text: 'missing (null)' })
              : el('span', { class: 'value', text: f.values.map(fmt).join(', ') }),
            ' ')))));
    case 'leaf':
    default: {
      const icon = { true: '✓', false: '✗', missing: '∅' }[node.outcome];
      const long = node.test.length > LONG_TEST;
      return el('div', { class: `leaf outcome-${node.outcome}`, 'data-field': node.field, 'data-outcome': node.outcome },
        el('span', { class: 'icon', title: node.outcome, text: icon }),
        el('div', { class: 'body' },
          el('code', {
            class: long ? 'test long' : 'test',
            title: long ? 'click to show it all' : null,
            text: node.test,
            onclick: long ? (e) => e.currentTarget.classList.toggle('open') : null,
          }),
          ' ',
          el('span', { class: 'values' },
            node.outcome === 'missing'
              ? el('span', { class: 'missing', text: 'missing' })
              : node.values.length === 0
                ? el('span', { class: 'novalue', text: 'no value' })
                : ['= ', el('span', { class: 'value', text: node.values.map(fmt).join(', ') })])));
    }
  }
}

const mark = (ok) => el('span', { class: `icon ${ok ? 'yes' : 'no'}`, text: ok ? '✓' : '✗' });

// ---------------------------------------------------------------- wiring

let sampleText = '';
async function loadSample() {
  if (!sampleText) {
    const res = await fetch('./sample.ndjson');
    sampleText = res.ok ? await res.text() : '';
  }
  ui.events.value = sampleText;
}

function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

async function main() {
  try {
    await init();
  } catch (e) {
    ui.status.className = 'status bad';
    ui.status.textContent = `The engine did not load (${e.message}). Build it first: scripts/build-js.sh`;
    return;
  }
  ui.rule.value = RuleEngine.embeddedQuery().replace(/^\n+/, '').replace(/\s+$/, '') + '\n';
  await loadSample();

  ui.rule.addEventListener('input', () => { renderEditor(); checkLater(); });
  ui.rule.addEventListener('scroll', syncScroll);
  ui.rule.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      document.execCommand('insertText', false, '  ');
    }
  });
  const checkLater = debounce(() => { const eng = compile(); eng?.free(); }, 250);
  for (const box of [ui.rule, ui.events]) {
    box.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  }
  ui.run.addEventListener('click', run);
  ui.makeExample.addEventListener('click', makeExample);
  ui.events.addEventListener('input', () => { ui.exampleNote.hidden = true; });
  $('reset-rule').addEventListener('click', () => {
    pack = null;
    showMode();
    ui.rule.value = RuleEngine.embeddedQuery().replace(/^\n+/, '').replace(/\s+$/, '') + '\n';
    run();
  });
  $('edit-single').addEventListener('click', () => { pack = null; showMode(); run(); });
  $('load-pack').addEventListener('click', loadLinuxPack);
  $('rule-files').addEventListener('change', async (e) => { await loadRuleFiles(e.target.files); e.target.value = ''; });
  ui.explainRule.addEventListener('change', () => pickRule(Number(ui.explainRule.value)));
  const rulePanel = $('rule-panel');
  rulePanel.addEventListener('dragover', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    rulePanel.classList.add('drop');
  });
  rulePanel.addEventListener('dragleave', () => rulePanel.classList.remove('drop'));
  rulePanel.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    rulePanel.classList.remove('drop');
    loadRuleFiles(e.dataTransfer.files);
  });
  $('load-sample').addEventListener('click', async () => { await loadSample(); ui.exampleNote.hidden = true; run(); });
  $('file').addEventListener('change', async (e) => {
    const file = e.target.files?.[0];
    if (file) { ui.events.value = await file.text(); run(); }
  });
  ui.events.addEventListener('dragover', (e) => { e.preventDefault(); ui.events.classList.add('drop'); });
  ui.events.addEventListener('dragleave', () => ui.events.classList.remove('drop'));
  ui.events.addEventListener('drop', async (e) => {
    e.preventDefault();
    ui.events.classList.remove('drop');
    const file = e.dataTransfer?.files?.[0];
    if (file) ui.events.value = await file.text();
    else ui.events.value = e.dataTransfer?.getData('text') ?? ui.events.value;
    run();
  });
  new ResizeObserver(syncScroll).observe(ui.rule);

  renderEditor();
  run();
  document.body.dataset.ready = 'true';
}

main();
