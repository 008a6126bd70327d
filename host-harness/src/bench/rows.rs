//! Which rows there are and what each runs: the plan (modules, component)
//! and `run_rows`, which measures every selected row.

use std::path::{Path, PathBuf};

use host_harness::{workspace_dir, CpuLimit, HostError, HostLimits, WasmComponent};
use rule_core::Limits;

use super::cli::cli_row;
use super::faces::*;
use super::fill::Fill;
use super::input::Input;
use super::measure::*;
use super::node::node_row;
use super::python::python_row;
use super::{note, BenchArgs};

/// Linear memory cap for the wasm rows: all a wasm32 module can address, so
/// that a million pending Defend-sized events fit.
pub(super) const BENCH_MEMORY_BYTES: usize = 1 << 32;

pub(super) fn selected(only: &[String], key: &str) -> bool {
    only.is_empty()
        || only.iter().any(|o| match o.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => o == key,
        })
}

/// What the rows run: the arguments and the compiled core modules (key,
/// description, module).
pub(super) struct Plan<'a> {
    pub(super) args: &'a BenchArgs,
    /// The core module (the wasm rows' and the cli-wasm row's).
    pub(super) core: std::rc::Rc<Artifact>,
    /// Key, description, how to get the file, CPU bound.
    pub(super) modules: Vec<(String, String, std::rc::Rc<Artifact>, CpuLimit)>,
    pub(super) component: Artifact,
    /// `--rules LABEL=...`: the packs with rows of their own.
    pub(super) packs: Vec<(String, host_harness::Pack)>,
}

/// A module or component file: given, or built by cargo on first use (a
/// no-op when it is up to date, so the rows time the sources as they are).
pub(super) struct Artifact {
    pub(super) given: Option<PathBuf>,
    pub(super) build: fn(&Path) -> Result<PathBuf, HostError>,
    pub(super) path: std::cell::OnceCell<Result<PathBuf, String>>,
}

impl Artifact {
    pub(super) fn new(
        given: Option<PathBuf>,
        build: fn(&Path) -> Result<PathBuf, HostError>,
    ) -> Artifact {
        Artifact {
            given,
            build,
            path: std::cell::OnceCell::new(),
        }
    }

    pub(super) fn path(&self) -> Result<&Path, String> {
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

/// The configuration that sets `limits` in a module or component, when they
/// are not the default ones.
pub(super) fn limits_config(limits: &Limits) -> Option<Vec<u8>> {
    (limits != &Limits::default()).then(|| {
        serde_json::to_vec(&serde_json::json!({ "limits": limits })).expect("limits serialise")
    })
}

/// Measures every selected row on `input`, with `fill` first when given.
pub(super) fn run_rows(
    plan: &Plan<'_>,
    input: &Input,
    fill: Option<&Fill>,
    limits: &Limits,
    tmp: &Path,
) -> Vec<Row> {
    let args = plan.args;
    let runs = args.runs;
    let bb = args.batch_bytes;
    let config = limits_config(limits);
    let mut rows = Vec::new();
    type Both = (Outcome, Option<Outcome>);
    let mut add_for =
        |pack: Option<&str>, key: &str, what: &str, mode: Mode, f: &mut dyn FnMut() -> Both| {
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
                pack: pack.map(str::to_string),
                outcome,
                pending,
                instructions: None,
                pending_instructions: None,
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
        add_for(None, key, what, mode, &mut || {
            done(measure_in_process(runs, fill.is_some(), |f| {
                native_once(input, filled(f), limits, mode, bb, None)
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
            add_for(None, &key, &what, mode, &mut || match artifact
                .path()
                .and_then(|p| load_module(p, *cpu))
            {
                Ok(m) => {
                    let make = make_detector(|| m.instantiate());
                    done(measure_in_process(runs, fill.is_some(), |f| {
                        detector_once(&make, config.as_deref(), input, filled(f), mode, bb)
                    }))
                }
                Err(e) => neither(Outcome::Failed(format!("module: {e}"))),
            });
        }
    }

    for mode in [Mode::Event, Mode::Batch] {
        let (key, what) = match mode {
            Mode::Event => (
                "component",
                "component (WIT rule:detector), wasmtime, epoch deadline, push-event per event",
            ),
            Mode::Batch => (
                "component-batch",
                "component (WIT rule:detector), wasmtime, epoch deadline, push-events per 1 MiB batch",
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
        add_for(None, key, what, mode, &mut || match component() {
            Ok(c) => {
                let make = make_detector(|| c.instantiate());
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
        add_for(None, key, what, mode, &mut || {
            node_row(input, fill, options.clone(), mode, args, tmp)
        });
    }

    let not_filled =
        || fill.map(|_| Outcome::Absent("not run: the fill is pushed in process".into()));
    add_for(
        None,
        "cli-native",
        "`rulehost run --native FILE`, the whole process (spawn to exit), alerts to a file",
        Mode::Event,
        &mut || {
            (
                cli_row(input, &["--native".as_ref()], runs, tmp),
                not_filled(),
            )
        },
    );
    add_for(
        None,
        "cli-wasm",
        "`rulehost run --module M FILE` (the default bound), the whole process, the module \
         compiled by the warm-up run loaded from a cache",
        Mode::Event,
        &mut || match plan.core.path() {
            Ok(path) => (
                cli_row(input, &["--module".as_ref(), path.as_os_str()], runs, tmp),
                not_filled(),
            ),
            Err(e) => neither(Outcome::Failed(format!("module: {e}"))),
        },
    );

    // The packs: natively and in the core module (default bound), per event.
    for (label, pack) in &plan.packs {
        let count = pack.files.len();
        add_for(
            Some(label),
            &format!("native-{label}"),
            &format!(
                "pack `{label}` ({count} rules), rule-core in process, Engine::push per event"
            ),
            Mode::Event,
            &mut || {
                done(measure_in_process(runs, fill.is_some(), |f| {
                    native_once(input, filled(f), limits, Mode::Event, bb, Some(pack))
                }))
            },
        );
        let config = serde_json::to_vec(&serde_json::json!({
            "rules": pack.rules_json(),
            "limits": limits,
        }))
        .expect("a pack serialises");
        add_for(
            Some(label),
            &format!("wasm-{label}"),
            &format!("pack `{label}` ({count} rules), core module, wasmtime, epoch deadline, push_event per event"),
            Mode::Event,
            &mut || match plan
                .core
                .path()
                .and_then(|p| load_module(p, HostLimits::default().cpu))
            {
                Ok(m) => {
                    let make = make_detector(|| m.instantiate());
                    done(measure_in_process(runs, fill.is_some(), |f| {
                        detector_once(&make, Some(&config), input, filled(f), Mode::Event, bb)
                    }))
                }
                Err(e) => neither(Outcome::Failed(format!("module: {e}"))),
            },
        );
    }

    // Fluent Bit: its own CPU per record, then what the filter adds.
    let fb_rows = ["fluent-bit", "fluent-bit-linux"]
        .iter()
        .flat_map(|b| ["", "-msgpack", "-aot", "-aot-msgpack"].map(|s| format!("{b}{s}")));
    if fill.is_none()
        && fb_rows
            .chain(["fluent-bit-alone".into()])
            .any(|k| selected(&args.only, &k))
    {
        super::fluentbit::rows(args, input, &mut add_for, tmp);
    }

    add_for(
        None,
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
