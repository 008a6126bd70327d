// The JavaScript row of `rulehost bench`: rule-js (the wasm-bindgen build,
// rule-js/pkg/node) under Node, over one NDJSON file.
//
//   node node_bench.cjs SPEC.json
//
// SPEC: { pkg, file, mode: "event" | "batch", batchBytes, runs, pending,
//         fillPre, fillPost, fillIdWidth, options }
// One warm-up run, then `runs` measured runs, each on a fresh RuleEngine;
// with `pending` > 0, the same again on a filled state (first `pending`
// stage-1 events, fillPre + id + fillPost with distinct ids, pushed
// untimed), the two kinds of run interleaved. Writes one JSON object to
// stdout: per state, seconds per measured run, the alerts (event ids) and
// state figures; the peak RSS and the wasm linear memory.
'use strict';

const fs = require('fs');
const path = require('path');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// The wasm-bindgen glue keeps its instance private; catch it on the way to
// read the size of its linear memory.
let instance = null;
const OriginalInstance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  instance = new OriginalInstance(module, imports);
  return instance;
};
const { RuleEngine } = require(path.join(spec.pkg, 'rule_js.js'));
WebAssembly.Instance = OriginalInstance;
const memoryBytes = () => {
  const mem = instance && instance.exports.memory;
  return mem ? mem.buffer.byteLength : null;
};

const data = fs.readFileSync(spec.file);
const text = data.toString('utf8');
// Events as strings (the usual JS input), or ~batchBytes NDJSON chunks cut
// at line ends; prepared before any timing.
const lines = text.split('\n').filter((l) => l.trim() !== '');
const batches = [];
if (spec.mode === 'batch') {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + spec.batchBytes, text.length);
    const nl = text.indexOf('\n', end - 1);
    end = nl < 0 ? text.length : nl + 1;
    batches.push(text.slice(start, end));
    start = end;
  }
}

function fill(engine) {
  const chunk = [];
  let size = 0;
  const flush = () => {
    if (chunk.length) engine.pushEvents(chunk.join('\n'));
    chunk.length = 0;
    size = 0;
  };
  for (let i = 0; i < spec.pending; i++) {
    const id = String(i).padStart(spec.fillIdWidth, '0');
    const line = spec.fillPre + id + spec.fillPost;
    chunk.push(line);
    size += line.length + 1;
    if (size >= spec.batchBytes) flush();
  }
  flush();
}

function once(withFill) {
  const engine = new RuleEngine(undefined, spec.options || undefined);
  const out = { alerts: [] };
  try {
    if (withFill) {
      const memBefore = memoryBytes();
      fill(engine);
      const afterFill = engine.stats();
      out.fill = {
        pending: afterFill.pendingSequences,
        stateBytes: afterFill.stateBytes,
        memoryDelta: memoryBytes() - memBefore,
      };
    }
    const drained = [];
    const t0 = process.hrtime.bigint();
    if (spec.mode === 'batch') {
      for (const b of batches) {
        const report = engine.pushEvents(b);
        if (report.alertsPending > 0) drained.push(engine.drainAlertsNdjson());
      }
    } else {
      for (const l of lines) {
        if (engine.pushEvent(l) > 0) drained.push(engine.drainAlertsNdjson());
      }
    }
    if (engine.flush() > 0) drained.push(engine.drainAlertsNdjson());
    out.secs = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const chunk of drained) {
      for (const a of chunk.split('\n')) {
        if (a !== '') out.alerts.push(JSON.stringify(JSON.parse(a).Events.map((e) => e.event.id)));
      }
    }
    const end = engine.stats();
    out.end = { pending: end.pendingSequences, stateBytes: end.stateBytes, evictions: end.evictions };
  } finally {
    // Linear memory never shrinks: free the engine now, not at some GC.
    engine.free();
  }
  return out;
}

function summary(warmUp, runs) {
  const last = runs[runs.length - 1];
  if (last.fill) {
    // The instance's memory grows once and is reused by later engines: the
    // fill's growth is the largest seen, the warm-up's included.
    last.fill.memoryDelta = Math.max(warmUp.fill.memoryDelta, ...runs.map((r) => r.fill.memoryDelta));
  }
  return {
    secs: runs.map((r) => r.secs),
    consistent: runs.every((r) => JSON.stringify(r.alerts) === JSON.stringify(last.alerts)),
    alerts: last.alerts,
    fill: last.fill || null,
    end: last.end,
  };
}

// Warm-up, then the measured runs; with a fill, empty and filled runs
// alternate so that a slow spell of the machine hits both alike.
const withFill = spec.pending > 0;
const warmEmpty = once(false);
const warmFull = withFill ? once(true) : null;
const empty = [];
const full = [];
for (let i = 0; i < spec.runs; i++) {
  empty.push(once(false));
  if (withFill) full.push(once(true));
}
process.stdout.write(
  JSON.stringify({
    node: process.version,
    events: lines.length,
    maxRssKiB: process.resourceUsage().maxRSS,
    wasmMemoryBytes: memoryBytes(),
    empty: summary(warmEmpty, empty),
    pending: withFill ? summary(warmFull, full) : null,
  }) + '\n',
);
