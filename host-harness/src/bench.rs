//! `rulehost bench`: one generated file of Defend-shaped events through every
//! face of the engine, side by side with the Python `eql` 1.0.1 reference,
//! in one table; and, with `--pending N`, the same with N sequences held
//! open.
//!
//! Method. Each row runs on a fresh engine per run: one warm-up run, then
//! `--runs` measured runs; the table gives the best run (the least disturbed
//! by other work on the machine) and the median. A run is timed from the
//! first event pushed to the last alert drained after `flush`; building the
//! engine, compiling the module and filling the pending state are not timed.
//! Every row's alerts (the `event.id`s of each alert's events, in order) are
//! compared with those of the first row.

use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use host_harness::{
    build_component, build_module, workspace_dir, ComponentDetector, CpuLimit, Detector, HostError,
    HostLimits, WasmComponent, WasmDetector, WasmModule,
};
use rule_core::{Engine, Limits, PushError, Rule};
use serde_json::Value;

use crate::gen::ProfileArg;

#[derive(Args)]
pub struct BenchArgs {
    /// Events to generate.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    events: usize,

    /// Seed of the generator.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,

    /// The generator's mix. With `reference`, the Python row must find
    /// exactly the same alerts as the others.
    #[arg(long, value_enum, default_value_t = ProfileArg::Realistic)]
    profile: ProfileArg,

    /// Benchmark this NDJSON file instead of generating one.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,

    /// Hold this many pending sequences open: push that many stage-1
    /// network events with distinct join keys first (untimed), then time
    /// the file, its timestamps moved into the same 5 s window.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pending: usize,

    /// Measured runs per row, after one warm-up run.
    #[arg(long, value_name = "N", default_value_t = 3)]
    runs: usize,

    /// Size of a batch for the batched rows, in bytes (whole lines).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    batch_bytes: usize,

    /// The core module (.wasm). Default: the workspace's build
    /// (`cargo build -p rule-wasm --target wasm32-unknown-unknown --release`,
    /// run first: a no-op when up to date).
    #[arg(long, value_name = "FILE")]
    module: Option<PathBuf>,

    /// Another build of the core module to time too, e.g.
    /// `simd128=target/simd/wasm32-unknown-unknown/release/rule_wasm.wasm`.
    #[arg(long = "extra-module", value_name = "LABEL=FILE")]
    extra_modules: Vec<String>,

    /// The component (.wasm). Default: the workspace's build (`cargo build
    /// -p rule-component --target wasm32-wasip2 --release`, run first); its
    /// rows say "not built" when that fails.
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,

    /// Only these rows (comma-separated keys, as in the table's first
    /// column; a key ending in `*` is a prefix).
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    only: Vec<String>,
}

/// Seconds a pending-mode file is spread over: inside maxspan (5 s) with
/// the fill at its start.
const PENDING_SPAN_MS: i64 = 4_000;

/// Linear memory cap for the wasm rows: all a wasm32 module can address, so
/// that a million pending Defend-sized events fit.
const BENCH_MEMORY_BYTES: usize = 1 << 32;

// ---------------------------------------------------------------- input

/// The measured bytes, split once, before any timing.
struct Input {
    data: Vec<u8>,
    /// Non-blank lines, without their `\n`.
    lines: Vec<Range<usize>>,
    /// About `batch_bytes` each, cut after a `\n`.
    batches: Vec<Range<usize>>,
    /// The same bytes on disk, for the rows in other processes.
    path: PathBuf,
    label: String,
}

impl Input {
    fn new(data: Vec<u8>, batch_bytes: usize, path: PathBuf, label: String) -> Input {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' {
                if !data[start..i].trim_ascii().is_empty() {
                    lines.push(start..i);
                }
                start = i + 1;
            }
        }
        if !data[start..].trim_ascii().is_empty() {
            lines.push(start..data.len());
        }
        let mut batches = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let end = (start + batch_bytes.max(1)).min(data.len());
            let end = match data[end - 1..].iter().position(|&b| b == b'\n') {
                Some(p) => end - 1 + p + 1,
                None => data.len(),
            };
            batches.push(start..end);
            start = end;
        }
        Input {
            data,
            lines,
            batches,
            path,
            label,
        }
    }

    fn events(&self) -> usize {
        self.lines.len()
    }

    fn bytes(&self) -> usize {
        self.data.len()
    }
}

/// Where `"@timestamp":"…"`'s value is in a line, and its time.
fn timestamp_in(line: &[u8]) -> Option<(Range<usize>, i64)> {
    const KEY: &[u8] = b"\"@timestamp\":\"";
    let at = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = line[at..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&line[at..at + len]).ok()?;
    Some((at..at + len, rule_core::time::parse_rfc3339_ms(text)?))
}

/// RFC 3339 with 7 fractional digits, as Defend writes them.
fn defend_time(ms: i64) -> String {
    let text = rule_core::time::format_rfc3339_ms(ms);
    format!("{}0000Z", text.trim_end_matches('Z'))
}

/// The input with every `@timestamp` moved, in proportion, into
/// `[first, first + span_ms]`; also that first time.
fn retime(input: &Input, span_ms: i64) -> Result<(Vec<u8>, i64), String> {
    let mut times = Vec::with_capacity(input.events());
    for (n, r) in input.lines.iter().enumerate() {
        let (span, ms) = timestamp_in(&input.data[r.clone()]).ok_or_else(|| {
            format!(
                "--pending: event {} has no \"@timestamp\":\"<RFC 3339>\" to move into the window",
                n + 1
            )
        })?;
        times.push((span, ms));
    }
    let first = times.iter().map(|t| t.1).min().unwrap_or(0);
    let last = times.iter().map(|t| t.1).max().unwrap_or(0);
    let scale = |ms: i64| -> i64 {
        if last == first {
            first
        } else {
            first + ((ms - first) as i128 * span_ms as i128 / (last - first) as i128) as i64
        }
    };
    let mut out = Vec::with_capacity(input.bytes());
    for (r, (span, ms)) in input.lines.iter().zip(&times) {
        let line = &input.data[r.clone()];
        out.extend_from_slice(&line[..span.start]);
        out.extend_from_slice(defend_time(scale(*ms)).as_bytes());
        out.extend_from_slice(&line[span.end..]);
        out.push(b'\n');
    }
    Ok((out, first))
}

// ---------------------------------------------------------------- pending fill

/// Stage-1 events that differ only in `process.entity_id`: event `i` is
/// `pre + i (zero-padded to id_width) + post`.
struct Fill {
    pre: String,
    post: String,
    id_width: usize,
    count: usize,
    /// Bytes of one fill event.
    event_bytes: usize,
}

const FILL_MARK: &str = "@@FILL-ID@@";

impl Fill {
    /// A template from the first event of `input` that passes stage 1 (a
    /// Defend-sized network event), its time set to `ts_ms`; a small
    /// hand-written one when the input has none.
    fn new(input: &Input, ts_ms: i64, count: usize) -> Fill {
        let ts = defend_time(ts_ms);
        let mut engine = Engine::with_embedded_rule();
        let mut template = None;
        for r in &input.lines {
            let before = engine.stats().stage_matches.first().copied();
            if engine.push(&input.data[r.clone()]).is_err() {
                continue;
            }
            let _ = engine.drain();
            if engine.stats().stage_matches.first().copied() != before {
                template = Fill::from_event(&input.data[r.clone()], &ts, count);
                if template.is_some() {
                    break;
                }
            }
        }
        template.unwrap_or_else(|| {
            let fallback = format!(
                r#"{{"@timestamp":"{ts}","event":{{"category":["network"],"type":["start"],"action":"connection_attempted","id":"fill"}},"host":{{"id":"fill-host","os":{{"type":"linux"}}}},"process":{{"entity_id":"{FILL_MARK}","executable":"/tmp/agent","name":"agent"}},"destination":{{"ip":"93.184.216.34","port":443}}}}"#
            );
            Fill::from_event(fallback.as_bytes(), &ts, count).expect("the fallback is a stage-1 event")
        })
    }

    fn from_event(event: &[u8], ts: &str, count: usize) -> Option<Fill> {
        let mut v: Value = serde_json::from_slice(event).ok()?;
        let width = v["process"]["entity_id"].as_str()?.len().max(12);
        v["process"]["entity_id"] = Value::String(FILL_MARK.into());
        v["@timestamp"] = Value::String(ts.into());
        let text = serde_json::to_string(&v).ok()?;
        let (pre, post) = text.split_once(FILL_MARK)?;
        let fill = Fill {
            pre: pre.into(),
            post: post.into(),
            id_width: width,
            count,
            event_bytes: pre.len() + width + post.len(),
        };
        // It must open a pending sequence of its own.
        let mut engine = Engine::with_embedded_rule();
        let mut buf = Vec::new();
        fill.event(0, &mut buf);
        fill.event(1, &mut buf);
        buf.pop();
        engine.push_ndjson(&buf).ok()?;
        (engine.stats().pending_sequences == 2).then_some(fill)
    }

    /// Appends event `i` and a `\n`.
    fn event(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.pre.as_bytes());
        let _ = write!(out, "{i:0w$}", w = self.id_width);
        out.extend_from_slice(self.post.as_bytes());
        out.push(b'\n');
    }

    /// The fill as NDJSON batches of about `batch_bytes`.
    fn for_each_batch(
        &self,
        batch_bytes: usize,
        mut f: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut buf = Vec::with_capacity(batch_bytes + self.event_bytes + 1);
        for i in 0..self.count {
            self.event(i, &mut buf);
            if buf.len() >= batch_bytes {
                f(&buf)?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            f(&buf)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- memory

/// A field of /proc/self/status, in bytes (Linux).
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Gives the memory the previous run freed back to the system, so that
/// the next RSS figures are its own (glibc keeps freed memory otherwise).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim takes any pad and only returns
        // free memory to the system.
        unsafe {
            malloc_trim(0);
        }
    }
}

// ---------------------------------------------------------------- rows

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Event,
    Batch,
}

/// What a run's state looked like, when there was a fill.
#[derive(Clone, Default)]
struct FillInfo {
    pending: u64,
    state_bytes: u64,
    /// RSS growth over the fill, in bytes.
    rss_delta: Option<i64>,
    /// Linear memory growth over the fill (wasm rows).
    memory_delta: Option<i64>,
}

#[derive(Clone, Default)]
struct Run {
    secs: f64,
    /// Per alert, its events' `event.id`s as a JSON array.
    alerts: Vec<String>,
    refused: u64,
    fill: Option<FillInfo>,
    /// Pending sequences and evictions after the run.
    end: Option<(u64, u64)>,
    /// Linear memory after the run (wasm rows).
    memory: Option<u64>,
    /// The process's peak RSS during the run, and its RSS before it.
    peak_rss: Option<u64>,
    rss_base: Option<u64>,
}

struct Measured {
    runs: Vec<Run>,
    peak_rss: Option<u64>,
    /// Peak RSS over the RSS when the row started.
    rss_growth: Option<u64>,
    memory: Option<u64>,
    /// Every measured run found the same alerts.
    consistent: bool,
}

impl Measured {
    fn best(&self) -> f64 {
        self.runs
            .iter()
            .map(|r| r.secs)
            .fold(f64::INFINITY, f64::min)
    }
    fn median(&self) -> f64 {
        let mut s: Vec<f64> = self.runs.iter().map(|r| r.secs).collect();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    }
    fn alerts(&self) -> &[String] {
        self.runs.last().map(|r| &r.alerts[..]).unwrap_or(&[])
    }
    fn last(&self) -> &Run {
        self.runs.last().expect("at least one run")
    }
}

enum Outcome {
    Done(Measured),
    /// Not built, not installed, or not run on purpose: why.
    Absent(String),
    Failed(String),
}

struct Row {
    key: String,
    what: String,
    mode: Mode,
    /// On the empty state.
    outcome: Outcome,
    /// With the pending sequences (`--pending`).
    pending: Option<Outcome>,
}

impl Measured {
    /// The measured runs, with the memory figures of the warm-up too.
    fn from_runs(warm_up: Run, mut runs: Vec<Run>) -> Measured {
        let all = || std::iter::once(&warm_up).chain(runs.iter());
        let peak_rss = all().filter_map(|r| r.peak_rss).max();
        let rss_growth = all()
            .filter_map(|r| r.peak_rss.zip(r.rss_base))
            .map(|(p, b)| p.saturating_sub(b))
            .max();
        let memory = all().filter_map(|r| r.memory).max();
        // Memory a run freed may stay with the process and serve the next
        // run: a fill's growth is the largest seen.
        let grew = |f: fn(&FillInfo) -> Option<i64>| {
            all().filter_map(|r| r.fill.as_ref().and_then(f)).max()
        };
        let (rss, mem) = (grew(|f| f.rss_delta), grew(|f| f.memory_delta));
        let consistent = runs.windows(2).all(|w| w[0].alerts == w[1].alerts);
        if let Some(fill) = runs.last_mut().and_then(|r| r.fill.as_mut()) {
            fill.rss_delta = rss;
            fill.memory_delta = mem;
        }
        Measured {
            runs,
            peak_rss,
            rss_growth,
            memory,
            consistent,
        }
    }
}

/// One run, with its peak RSS (VmHWM reset before it).
fn with_rss(once: &mut impl FnMut(bool) -> Result<Run, String>, fill: bool) -> Result<Run, String> {
    release_freed_memory();
    let reset = reset_peak_rss();
    let base = status_bytes("VmRSS");
    let mut run = once(fill)?;
    if reset {
        run.peak_rss = status_bytes("VmHWM");
        run.rss_base = base;
    }
    Ok(run)
}

/// A warm-up run, then `runs` measured runs, on the empty state and, with
/// `with_fill`, on the filled state too: the two interleaved, so that a
/// slow spell of the machine hits both alike.
fn measure_in_process(
    runs: usize,
    with_fill: bool,
    mut once: impl FnMut(bool) -> Result<Run, String>,
) -> Result<(Measured, Option<Measured>), String> {
    let warm_empty = with_rss(&mut once, false)?;
    let warm_full = if with_fill {
        Some(with_rss(&mut once, true)?)
    } else {
        None
    };
    let (mut empty, mut full) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        empty.push(with_rss(&mut once, false)?);
        if with_fill {
            full.push(with_rss(&mut once, true)?);
        }
    }
    Ok((
        Measured::from_runs(warm_empty, empty),
        warm_full.map(|w| Measured::from_runs(w, full)),
    ))
}

/// The `event.id`s of an alert's events, as a compact JSON array.
fn alert_ids(alert: &[u8]) -> String {
    let ids: Vec<Value> = match serde_json::from_slice::<Value>(alert) {
        Ok(v) => v["Events"]
            .as_array()
            .map(|events| events.iter().map(|e| e["event"]["id"].clone()).collect())
            .unwrap_or_default(),
        Err(_) => vec![Value::String("<alert is not JSON>".into())],
    };
    serde_json::to_string(&ids).unwrap_or_default()
}

fn ndjson_alert_ids(chunks: &[Vec<u8>]) -> Vec<String> {
    chunks
        .iter()
        .flat_map(|c| c.split(|&b| b == b'\n'))
        .filter(|l| !l.is_empty())
        .map(alert_ids)
        .collect()
}

// ---- native: rule-core in process

fn native_once(
    input: &Input,
    fill: Option<&Fill>,
    limits: &Limits,
    mode: Mode,
    batch_bytes: usize,
) -> Result<Run, String> {
    let mut engine = Engine::new(Rule::embedded(), limits.clone()).map_err(|e| e.to_string())?;
    let mut run = Run::default();
    if let Some(fill) = fill {
        release_freed_memory();
        let rss = status_bytes("VmRSS");
        fill.for_each_batch(batch_bytes, |b| {
            engine.push_ndjson(b).map(drop).map_err(|e| e.to_string())
        })?;
        let _ = engine.drain();
        let s = engine.stats();
        run.fill = Some(FillInfo {
            pending: s.pending_sequences,
            state_bytes: s.state_bytes,
            rss_delta: status_bytes("VmRSS")
                .zip(rss)
                .map(|(a, b)| a as i64 - b as i64),
            memory_delta: None,
        });
    }
    let data = &input.data;
    let mut alerts = Vec::new();
    let t = Instant::now();
    match mode {
        Mode::Event => {
            for r in &input.lines {
                match engine.push(&data[r.clone()]) {
                    Ok(0) => {}
                    Ok(_) => alerts.extend(engine.drain()),
                    Err(PushError::BackPressure) => {
                        return Err("back-pressure with the alerts drained".into())
                    }
                    Err(_) => run.refused += 1,
                }
            }
        }
        Mode::Batch => {
            for r in &input.batches {
                let report = engine
                    .push_ndjson(&data[r.clone()])
                    .map_err(|e| e.to_string())?;
                run.refused += report.refused.len() as u64;
                if report.alerts_pending > 0 {
                    alerts.extend(engine.drain());
                }
            }
        }
    }
    if engine.flush() > 0 {
        alerts.extend(engine.drain());
    }
    run.secs = t.elapsed().as_secs_f64();
    run.alerts = alerts
        .iter()
        .map(|a| alert_ids(a.as_str().as_bytes()))
        .collect();
    let s = engine.stats();
    run.end = Some((s.pending_sequences, s.evictions));
    Ok(run)
}

// ---- a Detector: the core module under wasmtime, the component

/// A detector whose memory the bench can read.
trait BenchDetector: Detector {
    /// Linear memory, in bytes, when there is one.
    fn memory_bytes(&self) -> Option<u64>;
}

impl BenchDetector for WasmDetector {
    fn memory_bytes(&self) -> Option<u64> {
        Some(WasmDetector::memory_bytes(self) as u64)
    }
}

impl BenchDetector for ComponentDetector {
    fn memory_bytes(&self) -> Option<u64> {
        Some(ComponentDetector::memory_bytes(self) as u64)
    }
}

type MakeDetector<'a> = Box<dyn Fn() -> Result<Box<dyn BenchDetector>, String> + 'a>;

fn stats_of(d: &mut dyn BenchDetector) -> Result<(u64, u64, u64), String> {
    let text = d.stats().map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("stats: {e}"))?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok((n("pending_sequences"), n("state_bytes"), n("evictions")))
}

fn detector_once(
    make: &MakeDetector<'_>,
    config: Option<&[u8]>,
    input: &Input,
    fill: Option<&Fill>,
    mode: Mode,
    batch_bytes: usize,
) -> Result<Run, String> {
    let err = |e: HostError| e.to_string();
    let mut d = make()?;
    if let Some(config) = config {
        d.configure(config).map_err(err)?;
    }
    let mut run = Run::default();
    if let Some(fill) = fill {
        release_freed_memory();
        let rss = status_bytes("VmRSS");
        let mem = d.memory_bytes();
        fill.for_each_batch(batch_bytes, |b| d.push_events(b).map(drop).map_err(err))?;
        d.drain_alerts().map_err(err)?;
        let (pending, state_bytes, _) = stats_of(&mut *d)?;
        run.fill = Some(FillInfo {
            pending,
            state_bytes,
            rss_delta: status_bytes("VmRSS")
                .zip(rss)
                .map(|(a, b)| a as i64 - b as i64),
            memory_delta: d.memory_bytes().zip(mem).map(|(a, b)| a as i64 - b as i64),
        });
    }
    let data = &input.data;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let t = Instant::now();
    match mode {
        Mode::Event => {
            for r in &input.lines {
                match d.push_event(&data[r.clone()]) {
                    Ok(0) => {}
                    Ok(_) => chunks.push(d.drain_alerts().map_err(err)?),
                    Err(HostError::Refused { code, .. }) if code != rule_core_back_pressure() => {
                        run.refused += 1
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        Mode::Batch => {
            for r in &input.batches {
                let outcome = d.push_events(&data[r.clone()]).map_err(err)?;
                run.refused += outcome.refused_count() as u64;
                if outcome.alerts_pending != Some(0) {
                    chunks.push(d.drain_alerts().map_err(err)?);
                }
            }
        }
    }
    if d.flush().map_err(err)? > 0 {
        chunks.push(d.drain_alerts().map_err(err)?);
    }
    run.secs = t.elapsed().as_secs_f64();
    run.alerts = ndjson_alert_ids(&chunks);
    let (pending, _, evictions) = stats_of(&mut *d)?;
    run.end = Some((pending, evictions));
    run.memory = d.memory_bytes();
    Ok(run)
}

fn rule_core_back_pressure() -> i32 {
    PushError::BackPressure.code()
}

// ---- rows in other processes: Node, Python

fn node_row(
    input: &Input,
    fill: Option<&Fill>,
    options: Option<Value>,
    mode: Mode,
    args: &BenchArgs,
    tmp: &Path,
) -> (Outcome, Option<Outcome>) {
    let both = |o: Outcome| {
        let again = match &o {
            Outcome::Absent(w) => Outcome::Absent(w.clone()),
            _ => Outcome::Failed("node failed".into()),
        };
        (o, fill.map(|_| again))
    };
    let pkg = workspace_dir().join("rule-js/pkg/node");
    if !pkg.join("rule_js.js").is_file() {
        return both(Outcome::Absent(
            "not built (scripts/build-js.sh builds rule-js/pkg/node)".into(),
        ));
    }
    let script = workspace_dir().join("host-harness/bench/node_bench.cjs");
    let spec = serde_json::json!({
        "pkg": pkg,
        "file": input.path,
        "mode": if mode == Mode::Batch { "batch" } else { "event" },
        "batchBytes": args.batch_bytes,
        "runs": args.runs.max(1),
        "pending": fill.map_or(0, |f| f.count),
        "fillPre": fill.map_or("", |f| &f.pre),
        "fillPost": fill.map_or("", |f| &f.post),
        "fillIdWidth": fill.map_or(0, |f| f.id_width),
        "options": options,
    });
    let spec_path = tmp.join("node-spec.json");
    if let Err(e) = std::fs::write(&spec_path, spec.to_string()) {
        return both(Outcome::Failed(format!("{}: {e}", spec_path.display())));
    }
    let output = match Command::new("node")
        .arg("--max-old-space-size=8192")
        .arg(&script)
        .arg(&spec_path)
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) => return both(Outcome::Absent(format!("no `node` to run it: {e}"))),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return both(Outcome::Failed(format!(
            "node {}: {}",
            output.status,
            last.unwrap_or("no message")
        )));
    }
    let v: Value = match serde_json::from_slice(&output.stdout) {
        Ok(v) => v,
        Err(e) => return both(Outcome::Failed(format!("node's report: {e}"))),
    };
    let peak = v["maxRssKiB"].as_u64().map(|k| k * 1024);
    let memory = v["wasmMemoryBytes"].as_u64();
    (
        node_outcome(&v["empty"], false, peak, memory),
        fill.map(|_| node_outcome(&v["pending"], true, peak, memory)),
    )
}

/// One state's part of node_bench.cjs's report.
fn node_outcome(v: &Value, filled: bool, peak: Option<u64>, memory: Option<u64>) -> Outcome {
    let alerts: Vec<String> = v["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(normalise_ids)
                .collect()
        })
        .unwrap_or_default();
    let fill_info = v["fill"].as_object().filter(|_| filled).map(|f| FillInfo {
        pending: f["pending"].as_u64().unwrap_or(0),
        state_bytes: f["stateBytes"].as_u64().unwrap_or(0),
        rss_delta: None,
        memory_delta: f["memoryDelta"].as_i64(),
    });
    let end = v["end"]["pending"]
        .as_u64()
        .map(|p| (p, v["end"]["evictions"].as_u64().unwrap_or(0)));
    let runs: Vec<Run> = v["secs"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(Value::as_f64)
                .map(|secs| Run {
                    secs,
                    alerts: alerts.clone(),
                    fill: fill_info.clone(),
                    end,
                    memory,
                    ..Run::default()
                })
                .collect()
        })
        .unwrap_or_default();
    if runs.is_empty() {
        return Outcome::Failed("node reported no runs".into());
    }
    Outcome::Done(Measured {
        runs,
        peak_rss: peak,
        rss_growth: None,
        memory,
        consistent: v["consistent"].as_bool().unwrap_or(false),
    })
}

/// A JSON array of ids, re-serialised the way `alert_ids` writes it.
fn normalise_ids(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_default(),
        Err(_) => text.to_string(),
    }
}

/// The reference venv's interpreter (tests/reference/setup.sh makes it).
fn reference_python() -> Result<PathBuf, String> {
    let setup = workspace_dir().join("tests/reference/setup.sh");
    let out = Command::new("bash")
        .arg(&setup)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", setup.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", setup.display(), out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .last()
        .map(|l| PathBuf::from(l.trim()))
        .ok_or_else(|| format!("{} named no interpreter", setup.display()))
}

fn python_row(input: &Input, runs: usize) -> Outcome {
    let python = match reference_python() {
        Ok(p) => p,
        Err(e) => return Outcome::Absent(format!("not available: {e}")),
    };
    let script = workspace_dir().join("tests/reference/eql_reference.py");
    let mut measured = Vec::new();
    let mut peak = 0u64;
    for i in 0..=runs.max(1) {
        let out = match Command::new(&python)
            .arg(&script)
            .args(["--naive-maxspan", "--time"])
            .arg(&input.path)
            .stdin(Stdio::null())
            .output()
        {
            Ok(o) => o,
            Err(e) => return Outcome::Failed(format!("cannot run {}: {e}", python.display())),
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            return Outcome::Failed(format!(
                "eql_reference.py {}: {}",
                out.status,
                last.unwrap_or("no message")
            ));
        }
        // "eql_reference: processed N events in S s, peak RSS K KiB"
        let Some(line) = stderr.lines().find(|l| l.contains("processed")) else {
            return Outcome::Failed("eql_reference.py did not report its time".into());
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let secs = words
            .iter()
            .position(|&w| w == "in")
            .and_then(|p| words.get(p + 1))
            .and_then(|s| s.parse::<f64>().ok());
        let kib = words
            .iter()
            .position(|&w| w == "RSS")
            .and_then(|p| words.get(p + 1))
            .and_then(|s| s.parse::<u64>().ok());
        let Some(secs) = secs else {
            return Outcome::Failed(format!("cannot read the time in {line:?}"));
        };
        peak = peak.max(kib.unwrap_or(0) * 1024);
        if i == 0 {
            continue; // warm-up
        }
        let alerts = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(normalise_ids)
            .collect();
        measured.push(Run {
            secs,
            alerts,
            ..Run::default()
        });
    }
    let consistent = measured.windows(2).all(|w| w[0].alerts == w[1].alerts);
    Outcome::Done(Measured {
        runs: measured,
        peak_rss: (peak > 0).then_some(peak),
        rss_growth: None,
        memory: None,
        consistent,
    })
}

// ---------------------------------------------------------------- the bench

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.1} GiB", k as f64 / (1 << 20) as f64))
        .unwrap_or_else(|| "unknown".into());
    format!("{cpu}, {cores} CPUs, {mem} RAM")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn selected(only: &[String], key: &str) -> bool {
    only.is_empty()
        || only.iter().any(|o| match o.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => o == key,
        })
}

fn note(message: &str) {
    eprintln!("rulehost bench: {message}");
}

/// What the rows run: the arguments and the compiled core modules (key,
/// description, module).
struct Plan<'a> {
    args: &'a BenchArgs,
    /// Key, description, how to get the file, CPU bound.
    modules: Vec<(String, String, std::rc::Rc<Artifact>, CpuLimit)>,
    component: Artifact,
}

/// A module or component file: given, or built by cargo on first use (a
/// no-op when it is up to date, so the rows time the sources as they are).
struct Artifact {
    given: Option<PathBuf>,
    build: fn(&Path) -> Result<PathBuf, HostError>,
    path: std::cell::OnceCell<Result<PathBuf, String>>,
}

impl Artifact {
    fn new(given: Option<PathBuf>, build: fn(&Path) -> Result<PathBuf, HostError>) -> Artifact {
        Artifact {
            given,
            build,
            path: std::cell::OnceCell::new(),
        }
    }

    fn path(&self) -> Result<&Path, String> {
        self.path
            .get_or_init(|| match &self.given {
                Some(p) => Ok(p.clone()),
                None => {
                    note("building it (cargo)");
                    (self.build)(&workspace_dir()).map_err(|e| e.to_string())
                }
            })
            .as_deref()
            .map_err(Clone::clone)
    }
}

fn load_module(path: &Path, cpu: CpuLimit) -> Result<WasmModule, String> {
    WasmModule::from_file(
        path,
        HostLimits {
            max_memory_bytes: BENCH_MEMORY_BYTES,
            cpu,
            ..HostLimits::default()
        },
    )
    .map_err(|e| e.to_string())
}

const EPOCH: CpuLimit = CpuLimit::Deadline {
    deadline: Duration::from_secs(60),
    tick: Duration::from_millis(10),
};

/// Measures every selected row on `input`, with `fill` first when given.
fn run_rows(
    plan: &Plan<'_>,
    input: &Input,
    fill: Option<&Fill>,
    limits: &Limits,
    tmp: &Path,
) -> Vec<Row> {
    let args = plan.args;
    let runs = args.runs;
    let bb = args.batch_bytes;
    let config: Option<Vec<u8>> = (limits != &Limits::default()).then(|| {
        serde_json::to_vec(&serde_json::json!({ "limits": limits })).expect("limits serialise")
    });
    let mut rows = Vec::new();
    type Both = (Outcome, Option<Outcome>);
    let mut add = |key: &str, what: &str, mode: Mode, f: &mut dyn FnMut() -> Both| {
        if !selected(&args.only, key) {
            return;
        }
        note(&format!("{key}: {what}"));
        let (outcome, pending) = f();
        for o in std::iter::once(&outcome).chain(pending.as_ref()) {
            if let Outcome::Failed(e) = o {
                note(&format!("{key}: failed: {e}"));
            }
        }
        rows.push(Row {
            key: key.into(),
            what: what.into(),
            mode,
            outcome,
            pending,
        });
    };
    // A row that did not run, in both tables.
    let neither = |o: Outcome| -> Both {
        let again = match &o {
            Outcome::Absent(w) => Outcome::Absent(w.clone()),
            Outcome::Failed(w) => Outcome::Failed(w.clone()),
            Outcome::Done(_) => Outcome::Failed("measured once only".into()),
        };
        (o, fill.map(|_| again))
    };
    let done = |r: Result<(Measured, Option<Measured>), String>| -> Both {
        match r {
            Ok((e, f)) => (Outcome::Done(e), f.map(Outcome::Done)),
            Err(e) => neither(Outcome::Failed(e)),
        }
    };
    let filled = |f: bool| fill.filter(|_| f);

    for (key, mode, what) in [
        (
            "native",
            Mode::Event,
            "rule-core in process, Engine::push per event",
        ),
        (
            "native-batch",
            Mode::Batch,
            "rule-core in process, Engine::push_ndjson per 1 MiB batch",
        ),
    ] {
        add(key, what, mode, &mut || {
            done(measure_in_process(runs, fill.is_some(), |f| {
                native_once(input, filled(f), limits, mode, bb)
            }))
        });
    }

    for (key, what, artifact, cpu) in &plan.modules {
        for mode in [Mode::Event, Mode::Batch] {
            let (key, what) = match mode {
                Mode::Event => (key.clone(), format!("{what}, push_event per event")),
                Mode::Batch => (
                    format!("{key}-batch"),
                    format!("{what}, push_events per 1 MiB batch"),
                ),
            };
            add(
                &key,
                &what,
                mode,
                &mut || match artifact.path().and_then(|p| load_module(p, *cpu)) {
                    Ok(m) => {
                        let make: MakeDetector<'_> = Box::new(|| {
                            m.instantiate()
                                .map(|d| Box::new(d) as Box<dyn BenchDetector>)
                                .map_err(|e| e.to_string())
                        });
                        done(measure_in_process(runs, fill.is_some(), |f| {
                            detector_once(&make, config.as_deref(), input, filled(f), mode, bb)
                        }))
                    }
                    Err(e) => neither(Outcome::Failed(format!("module: {e}"))),
                },
            );
        }
    }

    for mode in [Mode::Event, Mode::Batch] {
        let (key, what) = match mode {
            Mode::Event => (
                "component",
                "component (WIT rule:detector), wasmtime, fuel, push-event per event",
            ),
            Mode::Batch => (
                "component-batch",
                "component (WIT rule:detector), wasmtime, fuel, push-events per 1 MiB batch",
            ),
        };
        let component = || {
            let path = plan
                .component
                .path()
                .map_err(|e| Outcome::Absent(format!("not built ({e})")))?;
            WasmComponent::from_file(
                path,
                HostLimits {
                    max_memory_bytes: BENCH_MEMORY_BYTES,
                    ..HostLimits::default()
                },
            )
            .map_err(|e| Outcome::Failed(format!("{}: {e}", path.display())))
        };
        add(key, what, mode, &mut || match component() {
            Ok(c) => {
                let make: MakeDetector<'_> = Box::new(|| {
                    c.instantiate()
                        .map(|d| Box::new(d) as Box<dyn BenchDetector>)
                        .map_err(|e| e.to_string())
                });
                done(measure_in_process(runs, fill.is_some(), |f| {
                    detector_once(&make, config.as_deref(), input, filled(f), mode, bb)
                }))
            }
            Err(why) => neither(why),
        });
    }

    let options = (limits != &Limits::default()).then(|| {
        serde_json::json!({
            "maxPendingSequences": limits.max_pending_sequences,
            "maxStateBytes": limits.max_state_bytes,
        })
    });
    for (key, mode, what) in [
        (
            "js",
            Mode::Event,
            "rule-js (wasm-bindgen) under Node, pushEvent(string)",
        ),
        (
            "js-batch",
            Mode::Batch,
            "rule-js (wasm-bindgen) under Node, pushEvents(1 MiB string)",
        ),
    ] {
        add(key, what, mode, &mut || {
            node_row(input, fill, options.clone(), mode, args, tmp)
        });
    }

    add(
        "python",
        "Python eql 1.0.1 (tests/reference, --naive-maxspan)",
        Mode::Event,
        &mut || {
            (
                python_row(input, runs),
                fill.map(|_| {
                    Outcome::Absent(
                        "not run: eql's own maxspan loop walks every pending sequence on every \
                         network and file event (pending × events steps)"
                            .into(),
                    )
                }),
            )
        },
    );
    rows
}

/// How a row's alerts compare with the first row's.
fn agreement(outcome: &Outcome, reference: &[String]) -> (bool, String) {
    let Outcome::Done(m) = outcome else {
        return (true, String::new());
    };
    let alerts = m.alerts();
    if !m.consistent {
        return (false, format!("{} (runs differ!)", alerts.len()));
    }
    if alerts == reference {
        return (true, format!("{} same", alerts.len()));
    }
    let mut a: Vec<&String> = alerts.iter().collect();
    let mut b: Vec<&String> = reference.iter().collect();
    a.sort();
    b.sort();
    if a == b {
        return (false, format!("{} same set, other order", alerts.len()));
    }
    let only_here = a.iter().filter(|x| b.binary_search(x).is_err()).count();
    let only_there = b.iter().filter(|x| a.binary_search(x).is_err()).count();
    (
        false,
        format!("{} DIFFER (+{only_here} -{only_there})", alerts.len()),
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1 << 20) as f64)
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "–".into())
}

/// The table; returns whether every row that must agree did.
fn pick_outcome(r: &Row, pending: bool) -> Option<&Outcome> {
    if pending {
        r.pending.as_ref()
    } else {
        Some(&r.outcome)
    }
}

fn table<'a>(
    out: &mut String,
    rows: &'a [Row],
    input: &Input,
    python_must_agree: bool,
    pending: bool,
    notes: &mut Vec<String>,
) -> bool {
    let pick = |r: &'a Row| -> Option<&'a Outcome> { pick_outcome(r, pending) };
    let reference: Vec<String> = rows
        .iter()
        .find_map(|r| match pick(r) {
            Some(Outcome::Done(m)) if r.key != "python" => Some(m.alerts().to_vec()),
            _ => None,
        })
        .unwrap_or_default();
    let ns = |m: &Measured| m.best() * 1e9 / input.events().max(1) as f64;
    let base = |mode: Mode| {
        let key = if mode == Mode::Batch {
            "native-batch"
        } else {
            "native"
        };
        rows.iter().find_map(|r| match pick(r) {
            Some(Outcome::Done(m)) if r.key == key => Some(ns(m)),
            _ => None,
        })
    };
    if pending {
        let _ = writeln!(
            out,
            "| row | events/s | MB/s | ns/event (median) | × native | rate vs empty | state B/pending | memory B/pending | pending at end | alerts |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    } else {
        let _ = writeln!(
            out,
            "| row | events/s | MB/s | ns/event (median) | × native | peak RSS MiB | RSS growth MiB | wasm memory MiB | alerts |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|---|");
    }
    let mut ok = true;
    for row in rows {
        let Some(outcome) = pick(row) else {
            continue;
        };
        let m = match outcome {
            Outcome::Done(m) => m,
            Outcome::Absent(why) => {
                let _ = writeln!(out, "| {} | {why} |", row.key);
                continue;
            }
            Outcome::Failed(why) => {
                ok = false;
                let _ = writeln!(out, "| {} | FAILED: {why} |", row.key);
                continue;
            }
        };
        let best = m.best();
        let per_event = ns(m);
        let median_ns = m.median() * 1e9 / input.events().max(1) as f64;
        let times = base(row.mode)
            .or_else(|| base(Mode::Event))
            .map(|b| format!("{:.2}", per_event / b));
        let (agrees, alerts) = agreement(outcome, &reference);
        let alerts = if row.key == "python" && !agrees && !python_must_agree {
            notes.push(format!(
                "python: {alerts} against the other rows: this file is outside the domain where \
                 eql 1.0.1 and Elasticsearch agree (run with --profile reference to compare \
                 alert for alert); its time is still the time of the same work"
            ));
            format!("{alerts} (see notes)")
        } else {
            if !agrees {
                ok = false;
            }
            alerts
        };
        let rate = input.events() as f64 / best;
        let mbps = input.bytes() as f64 / best / 1e6;
        let head = format!(
            "| {} | {:.0} | {:.1} | {:.0} ({:.0}) | {} ",
            row.key,
            rate,
            mbps,
            per_event,
            median_ns,
            opt(times)
        );
        if pending {
            let empty_rate = match &row.outcome {
                Outcome::Done(em) => Some(input.events() as f64 / em.best()),
                _ => None,
            };
            let last = m.last();
            let fill = last.fill.as_ref();
            let per = |v: Option<i64>| {
                fill.filter(|f| f.pending > 0)
                    .zip(v)
                    .map(|(f, v)| format!("{:.0}", v as f64 / f.pending as f64))
            };
            let state = fill
                .filter(|f| f.pending > 0)
                .map(|f| format!("{:.0}", f.state_bytes as f64 / f.pending as f64));
            let memory = per(fill.and_then(|f| f.memory_delta.or(f.rss_delta)));
            let end = last.end.map(|(p, ev)| {
                if ev > 0 {
                    format!("{p} ({ev} evicted)")
                } else {
                    p.to_string()
                }
            });
            let _ = writeln!(
                out,
                "{head}| {} | {} | {} | {} | {alerts} |",
                opt(empty_rate.map(|e| format!("{:.0}%", rate / e * 100.0))),
                opt(state),
                opt(memory),
                opt(end),
            );
        } else {
            let _ = writeln!(
                out,
                "{head}| {} | {} | {} | {alerts} |",
                opt(m.peak_rss.map(mib)),
                opt(m.rss_growth.map(mib)),
                opt(m.memory.map(mib)),
            );
        }
    }
    if !pending {
        let _ = writeln!(out, "\nRows:");
        for row in rows {
            let _ = writeln!(out, "- {}: {}", row.key, row.what);
        }
    }
    ok
}

/// The goals of issue 7, as far as this run measured them.
fn goals(out: &mut String, rows: &[Row], pending: bool, input: &Input) {
    let best = |key: &str| {
        rows.iter().find_map(|r| match &r.outcome {
            Outcome::Done(m) if r.key == key => Some(m.best()),
            _ => None,
        })
    };
    let mbps = |s: f64| input.bytes() as f64 / s / 1e6;
    let _ = writeln!(out, "\nGoals (best runs):");
    if pending {
        let pending_best = |key: &str| {
            rows.iter().find_map(|r| match &r.pending {
                Some(Outcome::Done(m)) if r.key == key => Some(m.best()),
                _ => None,
            })
        };
        for row in rows {
            let key = row.key.as_str();
            if let (Some(p), Some(e)) = (pending_best(key), best(key)) {
                let _ = writeln!(
                    out,
                    "- {key}: with the pending state, {:.0}% of the empty-state rate (goal >= 80%)",
                    e / p * 100.0
                );
            }
        }
        return;
    }
    for key in ["wasm", "wasm-batch"] {
        if let Some(s) = best(key) {
            let _ = writeln!(
                out,
                "- {key}: {:.0} MB/s (goal >= 1000 MB/s, one core)",
                mbps(s)
            );
        }
    }
    for (w, n) in [("wasm", "native"), ("wasm-batch", "native-batch")] {
        if let (Some(w_s), Some(n_s)) = (best(w), best(n)) {
            let _ = writeln!(
                out,
                "- {w} / {n}: {:.2}x the time (goal <= 1.3x)",
                w_s / n_s
            );
        }
    }
    if let Some(py) = best("python") {
        for key in ["native", "wasm", "wasm-batch"] {
            if let Some(s) = best(key) {
                let _ = writeln!(
                    out,
                    "- {key}: {:.0}x the Python reference's rate (goal >= 100x)",
                    py / s
                );
            }
        }
    }
}

pub fn bench(args: &BenchArgs) -> Result<bool, String> {
    if cfg!(debug_assertions) {
        note("this is a debug build: its numbers say little (use cargo run --release)");
    }
    let tmp = TempDir(std::env::temp_dir().join(format!("rulehost-bench-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).map_err(|e| format!("{}: {e}", tmp.0.display()))?;

    let (data, path, label) = match &args.file {
        Some(path) => (
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
            path.clone(),
            path.display().to_string(),
        ),
        None => {
            let config = defend_gen::GenConfig {
                events: args.events,
                seed: args.seed,
                profile: args.profile.profile(),
            };
            let mut data = Vec::new();
            defend_gen::write_ndjson(&config, &mut data).map_err(|e| e.to_string())?;
            let path = tmp.0.join("events.ndjson");
            std::fs::write(&path, &data).map_err(|e| format!("{}: {e}", path.display()))?;
            let label = format!(
                "`rulehost gen --events {} --seed {} --profile {}`",
                args.events,
                args.seed,
                args.profile.name()
            );
            (data, path, label)
        }
    };
    let python_must_agree = args.file.is_none() && args.profile == ProfileArg::Reference;
    let mut input = Input::new(data, args.batch_bytes, path, label);

    let core = std::rc::Rc::new(Artifact::new(args.module.clone(), build_module));
    let mut modules = vec![
        (
            "wasm".to_string(),
            "core module, wasmtime, fuel".to_string(),
            core.clone(),
            HostLimits::default().cpu,
        ),
        (
            "wasm-epoch".to_string(),
            "core module, wasmtime, epoch deadline".to_string(),
            core.clone(),
            EPOCH,
        ),
        (
            "wasm-unbounded".to_string(),
            "core module, wasmtime, no CPU bound (to see what the bound costs)".to_string(),
            core.clone(),
            CpuLimit::Unbounded,
        ),
    ];
    for spec in &args.extra_modules {
        let (label, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--extra-module {spec}: LABEL=FILE"))?;
        modules.push((
            format!("wasm-{label}"),
            format!("core module built {label}, wasmtime, fuel"),
            std::rc::Rc::new(Artifact::new(Some(path.into()), build_module)),
            HostLimits::default().cpu,
        ));
    }
    let plan = Plan {
        args,
        modules,
        component: Artifact::new(args.component.clone(), build_component),
    };

    let mut out = String::new();
    let load_before = load_average();
    let fill = if args.pending > 0 {
        let (retimed, first) = retime(&input, PENDING_SPAN_MS)?;
        let path = tmp.0.join("events-in-window.ndjson");
        std::fs::write(&path, &retimed).map_err(|e| format!("{}: {e}", path.display()))?;
        let label = format!(
            "{}, timestamps moved into {} s",
            input.label,
            PENDING_SPAN_MS / 1000
        );
        let fill = Fill::new(&input, first, args.pending);
        input = Input::new(retimed, args.batch_bytes, path, label);
        Some(fill)
    } else {
        None
    };
    let alerts_hint = {
        let mut e = Engine::with_embedded_rule();
        let _ = e.push_ndjson(&input.data);
        e.flush();
        e.stats().alerts
    };
    let _ = writeln!(
        out,
        "rulehost bench: {}: {} events, {:.1} MB ({:.0} B/event), {} alerts",
        input.label,
        input.events(),
        input.bytes() as f64 / 1e6,
        input.bytes() as f64 / input.events().max(1) as f64,
        alerts_hint
    );
    let _ = writeln!(out, "machine: {}", machine());
    let _ = writeln!(
        out,
        "method: a fresh engine per run, 1 warm-up run, then the best of {} runs (median in \
         parentheses); MB = 10^6 bytes; 1 MiB batches; × native = time over native's in the \
         same mode",
        args.runs.max(1)
    );

    let mut notes = Vec::new();
    let ok;
    let limits;
    if let Some(fill) = &fill {
        limits = Limits {
            max_pending_sequences: (fill.count + input.events()).max(1_000_000),
            max_state_bytes: 4_000_000_000,
            ..Limits::default()
        };
        let _ = writeln!(
            out,
            "pending: {} stage-1 network events of {} bytes (a Defend event of this file, \
             with distinct process.entity_id), pushed untimed before each run; limits \
             max_pending_sequences {}, max_state_bytes {}",
            fill.count, fill.event_bytes, limits.max_pending_sequences, limits.max_state_bytes
        );
        let rows = run_rows(&plan, &input, Some(fill), &limits, &tmp.0);
        let _ = writeln!(
            out,
            "empty and filled runs alternate (warm-up of each, then empty, filled, empty, ...)"
        );
        let _ = writeln!(out, "\nEmpty state (the same file, the same limits):\n");
        let ok_empty = table(
            &mut out,
            &rows,
            &input,
            python_must_agree,
            false,
            &mut notes,
        );
        let _ = writeln!(out, "\nWith {} pending sequences:\n", fill.count);
        let ok_full = table(&mut out, &rows, &input, python_must_agree, true, &mut notes);
        let _ = writeln!(
            out,
            "\nstate B/pending: stats().state_bytes / pending after the fill; memory B/pending: \
             growth of the wasm linear memory (wasm, js rows) or of the RSS (native rows) over \
             the fill, per pending sequence"
        );
        goals(&mut out, &rows, true, &input);
        ok = ok_empty && ok_full;
    } else {
        limits = Limits::default();
        let rows = run_rows(&plan, &input, None, &limits, &tmp.0);
        let _ = writeln!(out);
        ok = table(
            &mut out,
            &rows,
            &input,
            python_must_agree,
            false,
            &mut notes,
        );
        let _ = writeln!(
            out,
            "\npeak RSS: the process's high-water mark over the row (VmHWM, reset per row; \
             it holds the input, {} MiB, throughout; node and python: their own process); \
             RSS growth: that peak over the RSS when the row started",
            mib(input.bytes() as u64)
        );
        goals(&mut out, &rows, false, &input);
    }
    for n in &notes {
        let _ = writeln!(out, "- note: {n}");
    }
    let _ = writeln!(
        out,
        "load average (1, 5, 15 min): {load_before} at the start, {} at the end",
        load_average()
    );
    if !ok {
        let _ = writeln!(
            out,
            "FAILED: a row failed or found other alerts than the first row"
        );
    }
    print!("{out}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    Ok(ok)
}
