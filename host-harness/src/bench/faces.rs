//! The faces run in this process: rule-core natively, the core module and
//! the component under wasmtime (both through `Detector`).

use std::path::Path;
use std::time::Instant;

use host_harness::{
    ComponentDetector, CpuLimit, Detector, HostError, HostLimits, Pack, WasmDetector, WasmModule,
};
use rule_core::{Engine, Limits, PushError, Rule};
use serde_json::Value;

use super::fill::Fill;
use super::input::Input;
use super::measure::*;
use super::rows::BENCH_MEMORY_BYTES;

// ---- native: rule-core in process

pub(super) fn native_once(
    input: &Input,
    fill: Option<&Fill>,
    limits: &Limits,
    mode: Mode,
    batch_bytes: usize,
    pack: Option<&Pack>,
) -> Result<Run, String> {
    let mut engine = match pack {
        None => Engine::new(Rule::embedded(), limits.clone()).map_err(|e| e.to_string())?,
        Some(pack) => Engine::with_pack(pack.entries(), limits.clone()).0,
    };
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
    let t = Instant::now();
    let alerts = counted_native_loop(&mut engine, input, mode, &mut run)?;
    run.secs = t.elapsed().as_secs_f64();
    run.alerts = alerts
        .iter()
        .map(|a| alert_ids(a.as_str().as_bytes()))
        .collect();
    let s = engine.stats();
    run.end = Some((s.pending_sequences, s.evictions));
    Ok(run)
}

/// The timed native loop: every event of `input`, the alerts drained, the
/// stream flushed. A function of its own, never inlined, so that callgrind
/// counts it alone (`--toggle-collect=*counted_native_loop*`: the
/// instr/event column, `instructions.rs`).
#[inline(never)]
pub(super) fn counted_native_loop(
    engine: &mut Engine,
    input: &Input,
    mode: Mode,
    run: &mut Run,
) -> Result<Vec<rule_core::Alert>, String> {
    let data = &input.data;
    let mut alerts = Vec::new();
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
    Ok(alerts)
}

// ---- a Detector: the core module under wasmtime, the component

/// A detector whose memory the bench can read.
pub(super) trait BenchDetector: Detector {
    /// Linear memory, in bytes, when there is one.
    fn memory_bytes(&self) -> Option<u64>;
    /// Fuel burnt so far, under a fuel bound.
    fn fuel_burnt(&self) -> Option<u64>;
}

impl BenchDetector for WasmDetector {
    fn memory_bytes(&self) -> Option<u64> {
        Some(WasmDetector::memory_bytes(self) as u64)
    }
    fn fuel_burnt(&self) -> Option<u64> {
        WasmDetector::fuel_burnt(self)
    }
}

impl BenchDetector for ComponentDetector {
    fn memory_bytes(&self) -> Option<u64> {
        Some(ComponentDetector::memory_bytes(self) as u64)
    }
    fn fuel_burnt(&self) -> Option<u64> {
        ComponentDetector::fuel_burnt(self)
    }
}

pub(super) type MakeDetector<'a> = Box<dyn Fn() -> Result<Box<dyn BenchDetector>, String> + 'a>;

/// A fresh detector per run, from a module's or component's `instantiate`.
pub(super) fn make_detector<'a, D: BenchDetector + 'static>(
    instantiate: impl Fn() -> Result<D, HostError> + 'a,
) -> MakeDetector<'a> {
    Box::new(move || {
        instantiate()
            .map(|d| Box::new(d) as Box<dyn BenchDetector>)
            .map_err(|e| e.to_string())
    })
}

pub(super) fn stats_of(d: &mut dyn BenchDetector) -> Result<(u64, u64, u64), String> {
    let text = d.stats().map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("stats: {e}"))?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok((n("pending_sequences"), n("state_bytes"), n("evictions")))
}

pub(super) fn detector_once(
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
    let fuel_before = d.fuel_burnt();
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
    run.fuel = d
        .fuel_burnt()
        .zip(fuel_before)
        .map(|(after, before)| after.saturating_sub(before));
    run.alerts = ndjson_alert_ids(&chunks);
    let (pending, _, evictions) = stats_of(&mut *d)?;
    run.end = Some((pending, evictions));
    run.memory = d.memory_bytes();
    Ok(run)
}

pub(super) fn rule_core_back_pressure() -> i32 {
    PushError::BackPressure.code()
}

pub(super) fn load_module(path: &Path, cpu: CpuLimit) -> Result<WasmModule, String> {
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
