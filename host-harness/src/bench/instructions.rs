//! The `instr/event` column: instructions per event, a figure that holds
//! still on a shared machine where wall time swings by 10 to 30 %, and what
//! an interpreter (Fluent Bit's WAMR) pays in proportion.
//!
//! Counted apart from the timed runs, over the first `--instructions-events`
//! events of the file, so that every row counts the same events:
//!
//! - wasm and component rows: the fuel the module burns (wasmtime counts
//!   about one unit per wasm instruction), in an untimed pass of the same
//!   module or component under a fuel bound. Fuel is a count of the wasm
//!   the module runs, not of the bound's checks, so the row's own bound
//!   (epoch, none) does not change it; `-batch` rows differ only by what
//!   `push_events` does beyond `push_event`.
//! - native rows, with `--instructions`: x86-64 instructions counted by
//!   valgrind's callgrind in a child process, `rulehost bench --count-native
//!   KEY`, collecting only inside `counted_native_loop` (faces.rs): the
//!   push loop, the drains and the flush, not the engine's construction.
//!
//! With `--pending N`, both tables have the column: the empty state's, and
//! the pending table's, counted on a detector or engine that holds the N
//! sequences (the same fill and limits as the timed rows, pushed first and
//! not counted), so that it shows what the held state adds to each event.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use host_harness::{HostLimits, Pack, WasmComponent, WasmModule, DEFAULT_FUEL};
use rule_core::Limits;

use super::faces::{detector_once, load_module, make_detector, native_once, MakeDetector};
use super::fill::Fill;
use super::input::Input;
use super::measure::{Mode, Outcome, Row};
use super::rows::{limits_config, Plan, BENCH_MEMORY_BYTES};
use super::{note, BenchArgs};

/// The function callgrind collects in (`--toggle-collect`).
const COUNTED_FN: &str = "*counted_native_loop*";

/// What one row runs, for counting.
enum Counted<'a> {
    Native {
        mode: Mode,
        /// `--rules` spec of the pack (`LABEL=DIR|FILE`), for the child.
        pack: Option<&'a str>,
    },
    Module {
        path: PathBuf,
        mode: Mode,
        config: Option<Vec<u8>>,
    },
    Component {
        mode: Mode,
        config: Option<Vec<u8>>,
    },
}

/// What the child callgrind counts needs besides its events (`--count-setup
/// FILE`, this as JSON): the timed rows' limits and, for the pending table,
/// the fill it pushes before the counted loop.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
struct CountSetup {
    limits: Limits,
    fill: Option<Fill>,
}

/// What a row key runs, from the plan, under the timed rows' `limits`;
/// `None` for rows not counted (js, python, cli: other processes with their
/// own runtimes).
fn counted<'a>(plan: &'a Plan<'_>, key: &str, limits: &Limits) -> Option<Counted<'a>> {
    let mode_of = |batch: bool| if batch { Mode::Batch } else { Mode::Event };
    match key {
        "native" | "native-batch" => {
            return Some(Counted::Native {
                mode: mode_of(key == "native-batch"),
                pack: None,
            })
        }
        "component" | "component-batch" => {
            return Some(Counted::Component {
                mode: mode_of(key == "component-batch"),
                config: limits_config(limits),
            })
        }
        _ => {}
    }
    for (module_key, _, artifact, _) in &plan.modules {
        let batch = match key.strip_prefix(module_key.as_str()) {
            Some("") => false,
            Some("-batch") => true,
            _ => continue,
        };
        return Some(Counted::Module {
            path: artifact.path().ok()?.to_path_buf(),
            mode: mode_of(batch),
            config: limits_config(limits),
        });
    }
    for (label, pack) in &plan.packs {
        if key == format!("native-{label}") {
            let spec = plan
                .args
                .packs
                .iter()
                .find(|spec| spec.split_once('=').is_some_and(|(l, _)| l == label))?;
            return Some(Counted::Native {
                mode: Mode::Event,
                pack: Some(spec),
            });
        }
        if key == format!("wasm-{label}") {
            let config = serde_json::to_vec(&serde_json::json!({
                "rules": pack.rules_json(),
                "limits": limits,
            }))
            .ok()?;
            return Some(Counted::Module {
                path: plan.core.path().ok()?.to_path_buf(),
                mode: Mode::Event,
                config: Some(config),
            });
        }
    }
    None
}

/// Fills `instructions` of every row that ran and can be counted, or, with
/// `fill`, `pending_instructions` of every row that ran with it (counted
/// after the fill); `limits` are the timed rows'. Returns the legend to
/// print under the table. Rows that cannot be counted keep `None`, with the
/// reason in `notes`.
pub(super) fn count_instructions(
    plan: &Plan<'_>,
    input: &Input,
    rows: &mut [Row],
    fill: Option<&Fill>,
    limits: &Limits,
    tmp: &Path,
    notes: &mut Vec<String>,
) -> String {
    let args = plan.args;
    let table = if fill.is_some() { " (pending)" } else { "" };
    let prefix = match first_events(input, args.instructions_events, args.batch_bytes, tmp) {
        Ok(prefix) => prefix,
        Err(e) => {
            notes.push(format!("instr/event{table} not counted: {e}"));
            return String::new();
        }
    };
    let valgrind = args
        .instructions
        .then(|| -> Result<(String, PathBuf), String> {
            let version = valgrind_version()?;
            let setup = tmp.join("count-setup.json");
            let json = serde_json::to_vec(&serde_json::json!({ "limits": limits, "fill": fill }))
                .map_err(|e| e.to_string())?;
            std::fs::write(&setup, json).map_err(|e| format!("{}: {e}", setup.display()))?;
            Ok((version, setup))
        });
    let mut modules: HashMap<PathBuf, WasmModule> = HashMap::new();
    let mut component: Option<Result<WasmComponent, String>> = None;
    for row in rows.iter_mut() {
        let outcome = match fill {
            None => Some(&row.outcome),
            Some(_) => row.pending.as_ref(),
        };
        if !matches!(outcome, Some(Outcome::Done(_))) {
            continue;
        }
        let Some(what) = counted(plan, &row.key, limits) else {
            continue;
        };
        let count = match what {
            Counted::Native { mode, pack } => match &valgrind {
                None => continue,
                Some(Err(e)) => Err(e.clone()),
                Some(Ok((_, setup))) => {
                    note(&format!(
                        "{}{table}: counting instructions (callgrind)",
                        row.key
                    ));
                    callgrind_native(&row.key, mode, pack, &prefix, setup, args.batch_bytes, tmp)
                }
            },
            Counted::Module { path, mode, config } => {
                let module = match modules.get(&path) {
                    Some(m) => Ok(m.clone()),
                    None => load_module(&path, DEFAULT_FUEL),
                };
                module.and_then(|m| {
                    modules.insert(path, m.clone());
                    let make = make_detector(move || m.instantiate());
                    let config = config.as_deref();
                    fuel_per_event(&make, config, &prefix, fill, mode, args.batch_bytes)
                })
            }
            Counted::Component { mode, config } => {
                let loaded = component.get_or_insert_with(|| fuel_component(plan));
                match loaded {
                    Ok(c) => {
                        let c = c.clone();
                        let make = make_detector(move || c.instantiate());
                        let config = config.as_deref();
                        fuel_per_event(&make, config, &prefix, fill, mode, args.batch_bytes)
                    }
                    Err(e) => Err(e.clone()),
                }
            }
        };
        let slot = match fill {
            None => &mut row.instructions,
            Some(_) => &mut row.pending_instructions,
        };
        match count {
            Ok(per_event) => *slot = Some(per_event),
            Err(e) => notes.push(format!("{}{table}: instr/event not counted: {e}", row.key)),
        }
    }
    if let Some(fill) = fill {
        return format!(
            "instr/event with {} pending sequences: counted as in the empty state's table, \
             over the same events, by a detector or engine that holds them (the fill is pushed \
             first and not counted)",
            fill.count
        );
    }
    let native = match valgrind {
        None => "native rows: with --instructions".to_string(),
        Some(Ok((version, _))) => format!(
            "native rows: x86-64 instructions in the push loop, counted by {version} \
             (callgrind)"
        ),
        Some(Err(e)) => format!("native rows: not counted ({e})"),
    };
    format!(
        "instr/event: instructions per event over the first {} events of the file, counted \
         apart from the timed runs; wasm and component rows: wasm fuel (about one unit per \
         wasm instruction, whatever the row's CPU bound); {native}",
        prefix.events()
    )
}

/// The first `count` events of `input`, in a file of their own.
fn first_events(
    input: &Input,
    count: usize,
    batch_bytes: usize,
    tmp: &Path,
) -> Result<Input, String> {
    let mut data = Vec::new();
    for line in input.lines.iter().take(count.max(1)) {
        data.extend_from_slice(&input.data[line.clone()]);
        data.push(b'\n');
    }
    let path = tmp.join("instructions-events.ndjson");
    std::fs::write(&path, &data).map_err(|e| format!("{}: {e}", path.display()))?;
    let label = format!("the first {count} events of {}", input.label);
    Ok(Input::new(data, batch_bytes, path, label))
}

/// The fuel the events of `prefix` burn, per event; after `fill`, whose
/// fuel is not counted, when given.
fn fuel_per_event(
    make: &MakeDetector<'_>,
    config: Option<&[u8]>,
    prefix: &Input,
    fill: Option<&Fill>,
    mode: Mode,
    batch_bytes: usize,
) -> Result<f64, String> {
    let run = detector_once(make, config, prefix, fill, mode, batch_bytes)?;
    let fuel = run.fuel.ok_or("the module ran without a fuel bound")?;
    Ok(fuel as f64 / prefix.events().max(1) as f64)
}

fn fuel_component(plan: &Plan<'_>) -> Result<WasmComponent, String> {
    let path = plan.component.path()?;
    let limits = HostLimits {
        max_memory_bytes: BENCH_MEMORY_BYTES,
        cpu: DEFAULT_FUEL,
        ..HostLimits::default()
    };
    WasmComponent::from_file(path, limits).map_err(|e| format!("{}: {e}", path.display()))
}

/// `valgrind --version`, or why there is none.
fn valgrind_version() -> Result<String, String> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| format!("valgrind not found ({e}); install it for --instructions"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !version.is_empty() {
        Ok(version)
    } else {
        Err(format!("valgrind --version: {}", out.status))
    }
}

/// Runs this executable's native loop for `key` under callgrind, with the
/// limits and fill of `setup` (a [`CountSetup`] file); returns instructions
/// per event.
fn callgrind_native(
    key: &str,
    mode: Mode,
    pack: Option<&str>,
    prefix: &Input,
    setup: &Path,
    batch_bytes: usize,
    tmp: &Path,
) -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let out_file = tmp.join(format!("callgrind-{key}.out"));
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(format!("--toggle-collect={COUNTED_FN}"))
        .arg(&exe)
        .arg("bench")
        .arg("--file")
        .arg(&prefix.path)
        .arg("--batch-bytes")
        .arg(batch_bytes.to_string())
        .arg("--count-setup")
        .arg(setup)
        .arg("--count-native")
        .arg(match mode {
            Mode::Event => "event",
            Mode::Batch => "batch",
        });
    if let Some(spec) = pack {
        command.arg("--rules").arg(spec);
    }
    let out = command
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!(
            "valgrind {}: {}",
            out.status,
            last.unwrap_or("no message")
        ));
    }
    let text =
        std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    let total =
        callgrind_total(&text).ok_or_else(|| format!("{}: no totals line", out_file.display()))?;
    if total == 0 {
        return Err(format!("callgrind counted nothing in {COUNTED_FN}"));
    }
    Ok(total as f64 / prefix.events().max(1) as f64)
}

/// The first event's total (`Ir`, instructions) of a callgrind output file.
fn callgrind_total(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("totals:"))
        .or_else(|| text.lines().find(|l| l.starts_with("summary:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child's side (`rulehost bench --count-native MODE --file F [--rules
/// L=P] [--count-setup S]`): the native loop once over the file, the seed
/// rule or the pack, for callgrind to count, after the fill of `S` when it
/// has one (as the timed rows do: `native_once`). Prints what it ran.
pub(super) fn native_child(args: &BenchArgs, mode: &str) -> Result<bool, String> {
    let mode = match mode {
        "event" => Mode::Event,
        "batch" => Mode::Batch,
        other => return Err(format!("--count-native {other}: event or batch")),
    };
    let path = args.file.as_ref().ok_or("--count-native needs --file")?;
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let input = Input::new(data, args.batch_bytes, path.clone(), String::new());
    let setup: CountSetup = match &args.count_setup {
        None => CountSetup::default(),
        Some(p) => std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| format!("--count-setup {}: {e}", p.display()))?,
    };
    let pack = match args.packs.as_slice() {
        [] => None,
        [spec] => {
            let (_, rules) = spec
                .split_once('=')
                .ok_or_else(|| format!("--rules {spec}: LABEL=DIR|FILE"))?;
            Some(Pack::load(&[PathBuf::from(rules)]).map_err(|e| e.to_string())?)
        }
        _ => return Err("--count-native takes one --rules at most".into()),
    };
    let fill = setup.fill.as_ref();
    let run = native_once(
        &input,
        fill,
        &setup.limits,
        mode,
        args.batch_bytes,
        pack.as_ref(),
    )?;
    println!(
        "{} events, {} alerts, {} refused, after {} pending sequences",
        input.events(),
        run.alerts.len(),
        run.refused,
        run.fill.map_or(0, |f| f.pending)
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::callgrind_total;

    #[test]
    fn callgrind_total_reads_the_totals_line() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 900\n\
                    fn=(1) main\n3 5\ntotals: 123456\n";
        assert_eq!(callgrind_total(text), Some(123456));
        assert_eq!(callgrind_total("summary: 77\n"), Some(77));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }
}
