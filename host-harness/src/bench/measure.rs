//! What a run measured (time, alerts, memory) and how a row's runs are
//! taken: a warm-up, then interleaved empty and filled runs.

use serde_json::Value;

// ---------------------------------------------------------------- memory

/// A field of /proc/self/status, in bytes (Linux).
pub(super) fn status_bytes(field: &str) -> Option<u64> {
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
pub(super) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Gives the memory the previous run freed back to the system, so that
/// the next RSS figures are its own (glibc keeps freed memory otherwise).
pub(super) fn release_freed_memory() {
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
pub(super) enum Mode {
    Event,
    Batch,
}

/// What a run's state looked like, when there was a fill.
#[derive(Clone, Default)]
pub(super) struct FillInfo {
    pub(super) pending: u64,
    pub(super) state_bytes: u64,
    /// RSS growth over the fill, in bytes.
    pub(super) rss_delta: Option<i64>,
    /// Linear memory growth over the fill (wasm rows).
    pub(super) memory_delta: Option<i64>,
}

#[derive(Clone, Default)]
pub(super) struct Run {
    pub(super) secs: f64,
    /// Per alert, its events' `event.id`s as a JSON array.
    pub(super) alerts: Vec<String>,
    pub(super) refused: u64,
    pub(super) fill: Option<FillInfo>,
    /// Pending sequences and evictions after the run.
    pub(super) end: Option<(u64, u64)>,
    /// Linear memory after the run (wasm rows).
    pub(super) memory: Option<u64>,
    /// Fuel the timed part burnt, under a fuel bound (wasm rows).
    pub(super) fuel: Option<u64>,
    /// The process's peak RSS during the run, and its RSS before it.
    pub(super) peak_rss: Option<u64>,
    pub(super) rss_base: Option<u64>,
}

pub(super) struct Measured {
    pub(super) runs: Vec<Run>,
    pub(super) peak_rss: Option<u64>,
    /// Peak RSS over the RSS when the row started.
    pub(super) rss_growth: Option<u64>,
    pub(super) memory: Option<u64>,
    /// Every measured run found the same alerts.
    pub(super) consistent: bool,
}

impl Measured {
    /// Runs of another process (the CLI, Fluent Bit): no memory figures of
    /// ours, consistent when every run found the same alerts.
    pub(super) fn of_process(runs: Vec<Run>) -> Measured {
        let consistent = runs.windows(2).all(|w| w[0].alerts == w[1].alerts);
        Measured {
            runs,
            peak_rss: None,
            rss_growth: None,
            memory: None,
            consistent,
        }
    }

    pub(super) fn best(&self) -> f64 {
        self.runs
            .iter()
            .map(|r| r.secs)
            .fold(f64::INFINITY, f64::min)
    }
    pub(super) fn median(&self) -> f64 {
        let mut s: Vec<f64> = self.runs.iter().map(|r| r.secs).collect();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    }
    pub(super) fn alerts(&self) -> &[String] {
        self.runs.last().map(|r| &r.alerts[..]).unwrap_or(&[])
    }
    pub(super) fn last(&self) -> &Run {
        self.runs.last().expect("at least one run")
    }
}

pub(super) enum Outcome {
    Done(Measured),
    /// Not built, not installed, or not run on purpose: why.
    Absent(String),
    Failed(String),
}

pub(super) struct Row {
    pub(super) key: String,
    pub(super) what: String,
    pub(super) mode: Mode,
    /// The pack the row runs (`--rules LABEL=...`); `None`: the seed rule.
    /// A row's alerts are compared with the first row of the same rules.
    pub(super) pack: Option<String>,
    /// On the empty state.
    pub(super) outcome: Outcome,
    /// With the pending sequences (`--pending`).
    pub(super) pending: Option<Outcome>,
    /// Instructions per event, counted apart from the timed runs
    /// (`instructions.rs`), when counted.
    pub(super) instructions: Option<f64>,
    /// The same with the pending sequences held (`--pending`): counted
    /// after the fill, which is not counted.
    pub(super) pending_instructions: Option<f64>,
}

impl Measured {
    /// The measured runs, with the memory figures of the warm-up too.
    pub(super) fn from_runs(warm_up: Run, mut runs: Vec<Run>) -> Measured {
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
pub(super) fn with_rss(
    once: &mut impl FnMut(bool) -> Result<Run, String>,
    fill: bool,
) -> Result<Run, String> {
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
pub(super) fn measure_in_process(
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
pub(super) fn alert_ids(alert: &[u8]) -> String {
    let ids: Vec<Value> = match serde_json::from_slice::<Value>(alert) {
        Ok(v) => v["Events"]
            .as_array()
            .map(|events| events.iter().map(|e| e["event"]["id"].clone()).collect())
            .unwrap_or_default(),
        Err(_) => vec![Value::String("<alert is not JSON>".into())],
    };
    serde_json::to_string(&ids).unwrap_or_default()
}

pub(super) fn ndjson_alert_ids(chunks: &[Vec<u8>]) -> Vec<String> {
    chunks
        .iter()
        .flat_map(|c| c.split(|&b| b == b'\n'))
        .filter(|l| !l.is_empty())
        .map(alert_ids)
        .collect()
}

/// A JSON array of ids, re-serialised the way `alert_ids` writes it.
pub(super) fn normalise_ids(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string(&v).unwrap_or_default(),
        Err(_) => text.to_string(),
    }
}
