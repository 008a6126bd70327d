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

mod cli;
mod faces;
mod fill;
mod fluentbit;
mod input;
mod instructions;
mod measure;
mod node;
mod python;
mod report;
mod rows;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use host_harness::{build_component, build_module, CpuLimit, HostLimits, DEFAULT_FUEL};
use rule_core::{Engine, Limits};

use crate::gen::ProfileArg;
use fill::Fill;
use input::{retime, Input};
use instructions::count_instructions;
use report::{goals, mib, table};
use rows::{run_rows, Artifact, Plan};

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

    /// A pack of rules to time too, natively and in the core module
    /// (rows `native-LABEL`, `wasm-LABEL`), beside the seed rule: a
    /// directory of detection-rules TOML files, a `.txt` list of them or a
    /// rule file, e.g. `linux=../shared/detection-rules/linux-defend.txt`.
    /// Repeat for more packs.
    #[arg(long = "rules", value_name = "LABEL=DIR|FILE")]
    packs: Vec<String>,

    /// Only these rows (comma-separated keys, as in the table's first
    /// column; a key ending in `*` is a prefix).
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    only: Vec<String>,

    /// Fluent Bit for the `fluent-bit*` rows (default:
    /// target/fluent-bit/bin/fluent-bit, as the test suite builds it;
    /// without one the rows say so).
    #[arg(long, value_name = "PATH")]
    fluent_bit: Option<PathBuf>,

    /// flb-wamrc for the `fluent-bit*-aot*` rows (default: beside Fluent
    /// Bit, or target/fluent-bit-aot/bin/flb-wamrc).
    #[arg(long, value_name = "PATH")]
    flb_wamrc: Option<PathBuf>,

    /// Count the native rows' instructions per event too, with valgrind's
    /// callgrind (slow: about a minute for a pack). The wasm and component
    /// rows' column (fuel per event) is always counted.
    #[arg(long)]
    instructions: bool,

    /// Events the instr/event column counts: the file's first N.
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    instructions_events: usize,

    /// The child process callgrind counts for `--instructions`: the native
    /// loop once over `--file` (`event` or `batch`), the seed rule or the
    /// `--rules` pack, nothing else.
    #[arg(long, value_name = "MODE", hide = true)]
    count_native: Option<String>,

    /// With `--count-native`: the limits and the fill to push before the
    /// counted loop (JSON, written by the parent; `instructions.rs`).
    #[arg(long, value_name = "FILE", hide = true)]
    count_setup: Option<PathBuf>,
}

/// Seconds a pending-mode file is spread over: inside maxspan (5 s) with
/// the fill at its start.
const PENDING_SPAN_MS: i64 = 4_000;

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

fn note(message: &str) {
    eprintln!("rulehost bench: {message}");
}

pub fn bench(args: &BenchArgs) -> Result<bool, String> {
    if let Some(mode) = &args.count_native {
        return instructions::native_child(args, mode);
    }
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
            "core module, wasmtime, epoch deadline (the host's default CPU bound)".to_string(),
            core.clone(),
            HostLimits::default().cpu,
        ),
        (
            "wasm-fuel".to_string(),
            "core module, wasmtime, fuel (the host's other CPU bound)".to_string(),
            core.clone(),
            DEFAULT_FUEL,
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
            format!("core module built {label}, wasmtime, epoch deadline"),
            std::rc::Rc::new(Artifact::new(Some(path.into()), build_module)),
            HostLimits::default().cpu,
        ));
    }
    let mut packs = Vec::new();
    for spec in &args.packs {
        let (label, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--rules {spec}: LABEL=DIR|FILE"))?;
        let pack = host_harness::Pack::load(&[PathBuf::from(path)])
            .map_err(|e| format!("--rules {spec}: {e}"))?;
        packs.push((label.to_string(), pack));
    }
    let plan = Plan {
        args,
        core,
        modules,
        component: Artifact::new(args.component.clone(), build_component),
        packs,
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
        let mut rows = run_rows(&plan, &input, Some(fill), &limits, &tmp.0);
        let count = |rows: &mut [_], fill, notes: &mut _| {
            count_instructions(&plan, &input, rows, fill, &limits, &tmp.0, notes)
        };
        let legend = count(&mut rows, None, &mut notes);
        let legend_pending = count(&mut rows, Some(fill), &mut notes);
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
        let _ = writeln!(out, "{legend}\n{legend_pending}");
        goals(&mut out, &rows, true, &input);
        ok = ok_empty && ok_full;
    } else {
        limits = Limits::default();
        let mut rows = run_rows(&plan, &input, None, &limits, &tmp.0);
        let legend =
            count_instructions(&plan, &input, &mut rows, None, &limits, &tmp.0, &mut notes);
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
        let _ = writeln!(out, "{legend}");
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
