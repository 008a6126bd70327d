//! `rulehost`: runs the rule over NDJSON events, in the wasm module, the
//! component or natively, and writes the alerts as NDJSON.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use host_harness::{
    default_cache_dir, resolve_component, resolve_module, workspace_dir, CpuLimit, Detector,
    HostError, HostLimits, NativeDetector, Pack, WasmComponent, WasmModule, BACK_PRESSURE,
    DEFAULT_FUEL,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

mod bench;
mod gen;
mod input;

use input::Input;

/// Runs Elastic's EQL rule "Network Connection Followed by File Creation"
/// over Elastic-Defend-shaped events, in a sandboxed wasm module or natively.
#[derive(Parser)]
#[command(name = "rulehost", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reads NDJSON events from files (or stdin), writes alerts as NDJSON to
    /// stdout and a summary to stderr.
    Run(RunArgs),
    /// Writes seeded Elastic-Defend-shaped events as NDJSON (the generator
    /// the benchmark and the differential test use).
    Gen(gen::GenArgs),
    /// Times every face of the engine (native, the core module under
    /// wasmtime, the component, JS under Node) and the Python eql 1.0.1
    /// reference over one generated file, and prints one table. See
    /// BENCHMARKS.md.
    Bench(bench::BenchArgs),
    /// Rule packs: `rules check DIR|FILE...` compiles every rule and lists
    /// the refused ones (file:line:column: reason) and a summary by folder.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Prints a stream of events that makes the rule alert (NDJSON, for
    /// `rulehost run`), built from the rule's own plan, and with
    /// `--near-misses` the near misses that must not.
    Example(ExampleArgs),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Compiles every rule of the pack; exit status 1 when any is refused.
    Check {
        /// Directories of detection-rules TOML files (searched
        /// recursively), `.txt` lists of them, or rule files.
        #[arg(value_name = "DIR|FILE", required = true)]
        sources: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct ExampleArgs {
    /// A detection-rules TOML file, or an `.eql` file.
    #[arg(value_name = "RULE")]
    rule: PathBuf,

    /// Also print each near miss (a `#` line saying what was changed, then
    /// its events); `rulehost run` reads `#` lines as comments.
    #[arg(long)]
    near_misses: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The rule module (.wasm). Default: the one the workspace builds
    /// (target/wasm32-unknown-unknown/release/rule_wasm.wasm), built first
    /// if missing.
    #[arg(long, value_name = "FILE", conflicts_with = "native")]
    module: Option<PathBuf>,

    /// Run rule-core in this process instead of the wasm module.
    #[arg(long)]
    native: bool,

    /// Run the rule as a WebAssembly component (WIT `rule:detector@1.0.0`)
    /// instead of the core module. FILE defaults to the one the workspace
    /// builds (target/wasm32-wasip2/release/rule_component.wasm), built
    /// first if missing; without FILE, put the flag after the inputs or
    /// before `--`.
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        conflicts_with_all = ["native", "module"]
    )]
    component: Option<Option<PathBuf>>,

    /// A rule to run instead of the embedded one: a detection-rules TOML
    /// file (*.toml) or bare EQL text (anything else).
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    rule: Option<PathBuf>,

    /// A pack of rules run together, one engine: a directory of
    /// detection-rules TOML files (searched recursively), a `.txt` list of
    /// them (`linux-defend.txt`), or a rule file; repeat the flag for more.
    /// A rule that does not compile is reported and the others run.
    #[arg(long, value_name = "DIR|FILE")]
    rules: Vec<PathBuf>,

    /// Engine limits as JSON, e.g. '{"max_buffered_alerts": 100}'.
    #[arg(long, value_name = "JSON")]
    limits: Option<String>,

    /// An Elasticsearch index mapping (JSON, as `GET index/_mapping` gives
    /// it): field types and aliases for the rule. Without one, types come
    /// from how the rule uses each field.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,

    /// The event time field (Elasticsearch's `timestamp_field`).
    #[arg(long, value_name = "FIELD")]
    timestamp_field: Option<String>,

    /// The field `process where` tests (`event_category_field`).
    #[arg(long, value_name = "FIELD")]
    event_category_field: Option<String>,

    /// Orders events of the same time (`tiebreaker_field`; a number or a
    /// date); without it they keep their arrival order.
    #[arg(long, value_name = "FIELD")]
    tiebreaker_field: Option<String>,

    /// Samples per join key a `sample` query gives (default 1).
    #[arg(long, value_name = "N")]
    max_samples_per_key: Option<usize>,

    /// At most N results (Elasticsearch's `size`); default: every result.
    #[arg(long, value_name = "N")]
    size: Option<u64>,

    /// With --size: `head`, the first N results as they form, or `tail`
    /// (Elasticsearch's default), the last N, written at the end of input.
    #[arg(long, value_name = "head|tail", value_parser = ["head", "tail"])]
    result_position: Option<String>,

    /// Cap on the module's linear memory, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    max_memory_mib: usize,

    /// Bound on each module call's wall-clock time (epoch interruption):
    /// a call still running after it traps, and the module is replaced.
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    timeout_ms: u64,

    /// Bound each module call by fuel instead of wall time: 2e9 units and
    /// 5 000 more per input byte (deterministic, about 4 % slower).
    #[arg(long, conflicts_with = "timeout_ms")]
    fuel: bool,

    /// Keep the compiled module here and reuse it while the module's bytes
    /// stay the same. Default: $XDG_CACHE_HOME/rulehost, else
    /// ~/.cache/rulehost.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,

    /// Compile the module on every start (compiling takes seconds).
    #[arg(long)]
    no_cache: bool,

    /// Events handed to the engine between two drains of its alerts.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    batch: usize,

    /// Print at most this many refused lines on stderr (all are counted).
    #[arg(long, value_name = "N", default_value_t = 20)]
    show_errors: usize,

    /// NDJSON files of events; none or `-` reads stdin. Lines starting with
    /// `#` are comments.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match run(&args) {
            Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(e) => {
                eprintln!("rulehost: {e}");
                ExitCode::from(2)
            }
        },
        Command::Gen(args) => match gen::gen(&args) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rulehost: gen: {e}");
                ExitCode::from(2)
            }
        },
        Command::Bench(args) => match bench::bench(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("rulehost: bench: {e}");
                ExitCode::from(2)
            }
        },
        Command::Rules(RulesCommand::Check { sources }) => match Pack::load(&sources) {
            Ok(pack) => {
                let report = pack.check();
                print!("{}", report.render());
                if report.refused == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("rulehost: rules check: {e}");
                ExitCode::from(2)
            }
        },
        Command::Example(args) => match example(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rulehost: example: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// `rulehost example RULE`.
fn example(args: &ExampleArgs) -> Result<(), String> {
    let pack = Pack::load(std::slice::from_ref(&args.rule)).map_err(|e| e.to_string())?;
    let file = pack
        .files
        .first()
        .ok_or_else(|| format!("{}: not an EQL rule", args.rule.display()))?;
    let rule = file
        .rule
        .as_ref()
        .map_err(|e| format!("{}: {e}", args.rule.display()))?;
    let example = rule_core::example(rule).map_err(|e| e.to_string())?;
    let mut out = String::new();
    out.push_str(&format!(
        "# {}: events that make it alert\n",
        rule.meta.name
    ));
    for event in &example.positives {
        out.push_str(event);
        out.push('\n');
    }
    if args.near_misses {
        for miss in &example.near_misses {
            out.push_str(&format!("# near miss (must not alert): {}\n", miss.what));
            for event in &miss.events {
                out.push_str(event);
                out.push('\n');
            }
        }
    }
    io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| e.to_string())
}

/// What a run did, for the summary line.
#[derive(Default)]
struct Summary {
    /// Non-blank lines read (taken and refused).
    events: u64,
    bytes: u64,
    alerts: u64,
    /// Lines the engine refused.
    refused: u64,
    /// Batches lost to a module trap or another host error.
    failed: u64,
}

fn config_json(args: &RunArgs) -> Result<Option<Vec<u8>>, String> {
    let mut config = serde_json::Map::new();
    if !args.rules.is_empty() {
        let pack = Pack::load(&args.rules).map_err(|e| format!("--rules: {e}"))?;
        if pack.files.is_empty() {
            return Err("--rules: no EQL rule found".into());
        }
        config.insert("rules".into(), pack.rules_json());
    }
    if let Some(path) = &args.rule {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read rule {}: {e}", path.display()))?;
        let key = if path.extension().is_some_and(|x| x == "toml") {
            "toml"
        } else {
            "eql"
        };
        let mut rule = serde_json::Map::new();
        rule.insert(key.into(), text.into());
        config.insert("rule".into(), rule.into());
    }
    if let Some(limits) = &args.limits {
        let value: serde_json::Value =
            serde_json::from_str(limits).map_err(|e| format!("--limits: {e}"))?;
        config.insert("limits".into(), value);
    }
    let mut params = serde_json::Map::new();
    if let Some(path) = &args.mapping {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read mapping {}: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("--mapping {}: {e}", path.display()))?;
        params.insert("mapping".into(), value);
    }
    if let Some(field) = &args.timestamp_field {
        params.insert("timestamp_field".into(), field.clone().into());
    }
    if let Some(field) = &args.event_category_field {
        params.insert("event_category_field".into(), field.clone().into());
    }
    if let Some(field) = &args.tiebreaker_field {
        params.insert("tiebreaker_field".into(), field.clone().into());
    }
    if let Some(n) = args.max_samples_per_key {
        params.insert("max_samples_per_key".into(), n.into());
    }
    if let Some(n) = args.size {
        params.insert("size".into(), n.into());
    }
    if let Some(position) = &args.result_position {
        params.insert("result_position".into(), position.clone().into());
    }
    if !params.is_empty() {
        config.insert("params".into(), params.into());
    }
    if config.is_empty() {
        Ok(None)
    } else {
        Ok(Some(
            serde_json::to_vec(&config).map_err(|e| e.to_string())?,
        ))
    }
}

/// The sandbox's bounds, from `--max-memory-mib`, `--timeout-ms` and `--fuel`.
fn host_limits(args: &RunArgs) -> HostLimits {
    HostLimits {
        max_memory_bytes: args.max_memory_mib.saturating_mul(1 << 20),
        cpu: if args.fuel {
            DEFAULT_FUEL
        } else {
            CpuLimit::Deadline {
                deadline: Duration::from_millis(args.timeout_ms),
                tick: Duration::from_millis(10),
            }
        },
        ..HostLimits::default()
    }
}

/// Where compiled modules are kept, unless `--no-cache`.
fn cache_dir(args: &RunArgs) -> Option<PathBuf> {
    if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or_else(default_cache_dir)
    }
}

fn detector(args: &RunArgs) -> Result<Box<dyn Detector>, String> {
    let mut detector: Box<dyn Detector> = if args.native {
        Box::new(NativeDetector::new())
    } else if let Some(file) = &args.component {
        let path =
            resolve_component(file.as_deref(), &workspace_dir()).map_err(|e| e.to_string())?;
        let limits = host_limits(args);
        let component = match cache_dir(args) {
            Some(dir) => WasmComponent::from_file_cached(&path, limits, &dir),
            None => WasmComponent::from_file(&path, limits),
        }
        .map_err(|e| {
            // `--component events.ndjson`: the flag took the first input.
            let text = std::fs::read(&path).is_ok_and(|b| !b.starts_with(b"\0asm"));
            if !text || path.extension().is_some_and(|x| x == "wat") {
                format!("--component {}: {e}", path.display())
            } else {
                format!(
                    "--component {}: not a WebAssembly component; without FILE, \
                     put --component after the inputs or before `--`",
                    path.display()
                )
            }
        })?;
        Box::new(component.instantiate().map_err(|e| e.to_string())?)
    } else {
        let path =
            resolve_module(args.module.as_deref(), &workspace_dir()).map_err(|e| e.to_string())?;
        let limits = host_limits(args);
        let module = match cache_dir(args) {
            Some(dir) => WasmModule::from_file_cached(&path, limits, &dir),
            None => WasmModule::from_file(&path, limits),
        }
        .map_err(|e| e.to_string())?;
        Box::new(module.instantiate().map_err(|e| e.to_string())?)
    };
    if let Some(config) = config_json(args)? {
        detector.configure(&config).map_err(|e| match &args.rule {
            Some(rule) => format!("--rule {}: {e}", rule.display()),
            None => e.to_string(),
        })?;
    }
    if !args.rules.is_empty() {
        report_pack(&mut *detector)?;
    }
    Ok(detector)
}

/// The pack as the engine took it: how many rules run, and each refused
/// one with its reason, on stderr.
fn report_pack(detector: &mut dyn Detector) -> Result<(), String> {
    let stats = detector.stats().map_err(|e| e.to_string())?;
    let stats: serde_json::Value =
        serde_json::from_str(&stats).map_err(|e| format!("stats: {e}"))?;
    let running = stats["rules"].as_array().map_or(0, Vec::len);
    let refused = stats["refused_rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in &refused {
        eprintln!(
            "rulehost: refused rule {}: {}",
            r["name"].as_str().unwrap_or("?"),
            r["error"].as_str().unwrap_or("?")
        );
    }
    eprintln!(
        "rulehost: pack: {running} rules run, {} refused",
        refused.len()
    );
    Ok(())
}

struct Runner<'a> {
    detector: Box<dyn Detector>,
    out: BufWriter<io::StdoutLock<'a>>,
    summary: Summary,
    shown_errors: u64,
    show_errors: usize,
    progress: ProgressBar,
}

impl Runner<'_> {
    fn note(&mut self, message: String) {
        if self.shown_errors < self.show_errors as u64 {
            self.progress.suspend(|| eprintln!("{message}"));
        }
        self.shown_errors += 1;
    }

    fn drain(&mut self) -> io::Result<()> {
        match self.detector.drain_alerts() {
            Ok(alerts) => {
                self.summary.alerts += alerts.iter().filter(|&&b| b == b'\n').count() as u64;
                self.out.write_all(&alerts)?;
            }
            Err(e) => {
                self.summary.failed += 1;
                self.progress.suspend(|| eprintln!("rulehost: {e}"));
            }
        }
        Ok(())
    }

    /// Hands one event (line `line_no` of `name`) to the engine. One call
    /// per event, not `push_events` per batch: the host has found the line
    /// already (memchr), and the engine's batch call would split the batch
    /// again byte by byte, which in wasm under a CPU bound costs more than
    /// the whole decoding (BENCHMARKS.md, "The CLI's rate").
    fn push(&mut self, name: &str, line_no: u64, event: &[u8]) -> io::Result<()> {
        let mut drained = false;
        loop {
            match self.detector.push_event(event) {
                Ok(_) => return Ok(()),
                Err(e) if e.is_back_pressure() && !drained => {
                    drained = true;
                    self.drain()?;
                }
                Err(HostError::Refused { code, message }) if code != BACK_PRESSURE => {
                    self.summary.refused += 1;
                    // The module says `event refused: <why>`; the line's
                    // place stands for the first words here.
                    let why = message.strip_prefix("event refused: ").unwrap_or(&message);
                    self.note(format!("{name}:{line_no}: {why}"));
                    return Ok(());
                }
                Err(e) => {
                    self.summary.failed += 1;
                    let lost = if e.lost_state() {
                        " (the module was restarted; pending sequences were lost)"
                    } else {
                        ""
                    };
                    self.progress
                        .suspend(|| eprintln!("rulehost: {name}:{line_no}: {e}{lost}"));
                    return Ok(());
                }
            }
        }
    }

    fn input(&mut self, input: Input, batch_lines: usize) -> io::Result<()> {
        let name = input.name.clone();
        let mut line_no = 0u64;
        let mut events_in_batch = 0usize;
        let mut unreported = 0u64;
        input.for_each_line(|line, taken| {
            line_no += 1;
            self.summary.bytes += taken as u64;
            unreported += taken as u64;
            // Blank lines are skipped; `#` starts a comment line (annotated
            // samples). Both still count for the line numbers in messages.
            match line.iter().find(|b| !b.is_ascii_whitespace()) {
                None | Some(b'#') => return Ok(()),
                Some(_) => {}
            }
            self.summary.events += 1;
            self.push(&name, line_no, line)?;
            events_in_batch += 1;
            if events_in_batch >= batch_lines {
                self.drain()?;
                events_in_batch = 0;
                self.progress.inc(std::mem::take(&mut unreported));
                self.progress.set_message(format!(
                    "{} events, {} alerts",
                    self.summary.events, self.summary.alerts
                ));
            }
            Ok(())
        })?;
        self.progress.inc(unreported);
        if events_in_batch > 0 {
            self.drain()?;
        }
        Ok(())
    }
}

fn run(args: &RunArgs) -> Result<Summary, String> {
    let detector = detector(args)?;
    let mut inputs: Vec<Input> = Vec::new();
    let paths = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    for path in &paths {
        inputs.push(Input::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    }
    let total: Option<u64> = inputs.iter().map(|i| i.size).sum();
    let progress = if io::stderr().is_terminal() {
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar
    } else {
        ProgressBar::hidden()
    };
    let stdout = io::stdout();
    let mut runner = Runner {
        detector,
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        summary: Summary::default(),
        shown_errors: 0,
        show_errors: args.show_errors,
        progress,
    };
    let started = Instant::now();
    let batch_lines = args.batch.max(1);
    for input in inputs {
        let name = input.name.clone();
        runner
            .input(input, batch_lines)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    match runner.detector.flush() {
        Ok(_) => {}
        Err(e) => {
            runner.summary.failed += 1;
            eprintln!("rulehost: flush: {e}");
        }
    }
    runner.drain().map_err(|e| format!("stdout: {e}"))?;
    runner.out.flush().map_err(|e| format!("stdout: {e}"))?;
    runner.progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let s = &runner.summary;
    let rate = if elapsed > 0.0 {
        s.events as f64 / elapsed
    } else {
        0.0
    };
    if runner.shown_errors > args.show_errors as u64 {
        eprintln!(
            "rulehost: {} more refused lines not shown (--show-errors)",
            runner.shown_errors - args.show_errors as u64
        );
    }
    eprintln!(
        "{} backend: {} events, {} bytes, {} alerts, {} errors ({} refused lines, {} failed calls), {:.0} events/s in {:.3} s",
        runner.detector.backend(),
        s.events.saturating_sub(s.refused),
        s.bytes,
        s.alerts,
        s.refused + s.failed,
        s.refused,
        s.failed,
        rate,
        elapsed
    );
    Ok(std::mem::take(&mut runner.summary))
}
