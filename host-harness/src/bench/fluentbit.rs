//! The Fluent Bit rows: real Fluent Bit (`target/fluent-bit/bin/fluent-bit`,
//! built by `../shared/fluent-bit/build.sh`, or `--fluent-bit PATH`) reads
//! the bench's file once (`tail`, `read_from_head`, `exit_on_eof`, the
//! `json` parser) and writes to `file` (MessagePack to `/dev/null` without
//! the filter, the filter's replies as JSON lines to a file with it). A row
//! is the process's CPU time (user + system, `getrusage` of the child),
//! spawn to exit:
//!
//! - `fluent-bit-alone`: no filter, Fluent Bit's own work per record;
//! - `fluent-bit`, `fluent-bit-msgpack`: the `rule-fluentbit` module,
//!   `alerts_only` with `event_format json` and `alerts_only_msgpack` with
//!   `event_format msgpack`; its figures are the CPU the filter adds: the
//!   run's CPU less the median of the `fluent-bit-alone` runs;
//! - `fluent-bit-linux`, `fluent-bit-linux-msgpack`: the same with the
//!   Linux + Defend pack built in (`RULE_PACK=../shared/detection-rules/
//!   linux-defend.txt`).
//!
//! - `fluent-bit-aot`, `fluent-bit-aot-msgpack`, `fluent-bit-linux-aot`,
//!   `fluent-bit-linux-aot-msgpack`: the same modules compiled ahead of
//!   time by `flb-wamrc` (`FLB_WAMRC=On ../shared/fluent-bit/build.sh
//!   target/fluent-bit-aot`, or `--flb-wamrc PATH`; compiling is not
//!   timed); Fluent Bit's WAMR loads the `.aot` file as it loads a `.wasm`.
//!
//! Every run's alerts are read back from Fluent Bit's output and compared,
//! as every row's are, with native rule-core's (the seed rule, or the pack
//! loaded natively: a difference fails the row).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use host_harness::workspace_dir;
use serde_json::Value;

use super::input::Input;
use super::measure::*;

/// A file named on the command line by `flag`, which must exist.
fn given_file(flag: &str, path: &Path) -> Result<PathBuf, String> {
    match path.is_file() {
        true => Ok(path.to_path_buf()),
        false => Err(format!("{flag} {}: no such file", path.display())),
    }
}

/// Cargo's target directory, as the test suite's builds use it.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"))
}

/// Where Fluent Bit is: `--fluent-bit`, else the test suite's build.
pub(super) fn fluent_bit_binary(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return given_file("--fluent-bit", path);
    }
    [target_dir(), workspace_dir().join("target")]
        .iter()
        .map(|t| t.join("fluent-bit/bin/fluent-bit"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "not run: no Fluent Bit at target/fluent-bit/bin/fluent-bit (build it with \
             ../shared/fluent-bit/build.sh target/fluent-bit, or give --fluent-bit PATH)"
                .to_string()
        })
}

/// Where `flb-wamrc` is: `--flb-wamrc`, else beside a Fluent Bit built
/// with `FLB_WAMRC=On` under the target directory.
pub(super) fn wamrc_binary(given: Option<&Path>, fluent_bit: &Path) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return given_file("--flb-wamrc", path);
    }
    let target = target_dir();
    let beside = fluent_bit.with_file_name("flb-wamrc");
    [
        beside,
        target.join("fluent-bit-aot/bin/flb-wamrc"),
        workspace_dir().join("target/fluent-bit-aot/bin/flb-wamrc"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(|| {
        "not run: no flb-wamrc (FLB_WAMRC=On ../shared/fluent-bit/build.sh target/fluent-bit-aot, \
         or give --flb-wamrc PATH)"
            .to_string()
    })
}

/// `module` compiled ahead of time by `wamrc` into `dir`.
fn compile_aot(wamrc: &Path, module: &Path, dir: &Path, name: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join(name);
    let status = Command::new(wamrc)
        .arg("-o")
        .arg(&out)
        .arg(module)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", wamrc.display()))?;
    match status.success() && out.is_file() {
        true => Ok(out),
        false => Err(format!(
            "{} -o {} {}: {status}",
            wamrc.display(),
            out.display(),
            module.display()
        )),
    }
}

/// The Linux + Defend pack's list.
pub(super) fn linux_pack_list() -> PathBuf {
    workspace_dir().join("../shared/detection-rules/linux-defend.txt")
}

/// Builds `rule-fluentbit` for wasm32 (release), with `pack` built in when
/// given (in a target directory of its own), and returns the `.wasm`.
pub(super) fn build_filter(pack: Option<&Path>) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"));
    let mut command = Command::new(cargo);
    command.current_dir(workspace_dir()).args([
        "build",
        "-q",
        "-p",
        "rule-fluentbit",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
    ]);
    let target = match pack {
        Some(list) => {
            let t = target.join("fluentbit-pack");
            command.env("RULE_PACK", list).env("CARGO_TARGET_DIR", &t);
            t
        }
        None => {
            command
                .env_remove("RULE_PACK")
                .env("CARGO_TARGET_DIR", &target);
            target
        }
    };
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p rule-fluentbit: {status}"));
    }
    let wasm = target.join("wasm32-unknown-unknown/release/rule_fluentbit.wasm");
    match wasm.is_file() {
        true => Ok(wasm),
        false => Err(format!("cargo built no {}", wasm.display())),
    }
}

/// The filter a run uses: none, or the module in one format.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Filter<'a> {
    None,
    Json(&'a Path),
    Msgpack(&'a Path),
}

fn config(input: &Path, filter: Filter<'_>, out_dir: &Path) -> String {
    let mut c = format!(
        "[SERVICE]\n    Flush        1\n    Grace        1\n    Log_Level    error\n    \
         Parsers_File parsers.conf\n[INPUT]\n    Name              tail\n    Path              \
         {}\n    Parser            json\n    Read_from_Head    true\n    Exit_On_Eof       true\n    \
         Tag               defend\n    Buffer_Chunk_Size 4M\n    Buffer_Max_Size   4M\n    \
         Skip_Long_Lines   On\n",
        input.display()
    );
    let (function, format, module) = match filter {
        Filter::None => ("", "", None),
        Filter::Json(m) => ("alerts_only", "json", Some(m)),
        Filter::Msgpack(m) => ("alerts_only_msgpack", "msgpack", Some(m)),
    };
    if let Some(module) = module {
        c.push_str(&format!(
            "[FILTER]\n    Name             wasm\n    Match            defend\n    Wasm_Path        \
             {}\n    Function_Name    {function}\n    Event_Format     {format}\n    \
             Accessible_Paths .\n    Wasm_Heap_Size   8K\n    Wasm_Stack_Size  64K\n\
             [OUTPUT]\n    Name   file\n    Match  *\n    Path   {}\n    File   alerts.txt\n    \
             Format plain\n",
            module.display(),
            out_dir.display()
        ));
    } else {
        c.push_str(
            "[OUTPUT]\n    Name   file\n    Match  *\n    Path   /dev\n    File   null\n    \
             Format msgpack\n",
        );
    }
    c
}

#[repr(C)]
#[derive(Default)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    rest: [i64; 14],
}

/// User + system CPU seconds of the children waited for so far.
fn children_cpu() -> f64 {
    extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    let mut r = Rusage::default();
    // SAFETY: RUSAGE_CHILDREN (-1) and a struct rusage of Linux's layout
    // (two timevals and fourteen longs on 64-bit targets).
    let ok = unsafe { getrusage(-1, &mut r) } == 0;
    if !ok {
        return 0.0;
    }
    let t = |v: &Timeval| v.sec as f64 + v.usec as f64 / 1e6;
    t(&r.utime) + t(&r.stime)
}

/// One Fluent Bit process over the file: its CPU seconds and, with a
/// filter, the alerts it wrote (per alert its events' ids).
fn run_once(
    bin: &Path,
    input: &Input,
    filter: Filter<'_>,
    dir: &Path,
) -> Result<(f64, Vec<String>), String> {
    let _ = std::fs::remove_file(dir.join("alerts.txt"));
    std::fs::write(
        dir.join("parsers.conf"),
        "[PARSER]\n    Name   json\n    Format json\n",
    )
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(
        dir.join("fluent-bit.conf"),
        config(&input.path, filter, dir),
    )
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    let before = children_cpu();
    let out = Command::new(bin)
        .args(["-c", "fluent-bit.conf"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let cpu = children_cpu() - before;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        let last = log.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!("fluent-bit {}: {}", out.status, last.unwrap_or("")));
    }
    if filter == Filter::None {
        return Ok((cpu, Vec::new()));
    }
    let text = std::fs::read(dir.join("alerts.txt")).unwrap_or_default();
    let mut alerts = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line)
            .map_err(|e| format!("Fluent Bit wrote a line that is not JSON ({e})"))?;
        if v.get("rule_error").is_some() {
            return Err(format!("the filter answered an error: {v}"));
        }
        for alert in v["alerts"].as_array().into_iter().flatten() {
            // JSON mode: the alert object; MessagePack mode: its text.
            let doc = match alert.as_str() {
                Some(s) => s.trim().to_string(),
                None => alert.to_string(),
            };
            alerts.push(doc.into_bytes());
        }
    }
    let ndjson = alerts.join(&b'\n');
    Ok((cpu, ndjson_alert_ids(&[ndjson])))
}

/// `fluent-bit-alone`: Fluent Bit's own CPU per run; the median is what
/// the filter rows subtract.
pub(super) fn alone_row(bin: &Path, input: &Input, runs: usize, tmp: &Path) -> (Outcome, f64) {
    let dir = tmp.join("fluent-bit-alone");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return (Outcome::Failed(format!("{}: {e}", dir.display())), 0.0);
    }
    let mut measured = Vec::new();
    for i in 0..=runs.max(1) {
        match run_once(bin, input, Filter::None, &dir) {
            Ok(_) if i == 0 => {}
            Ok((secs, _)) => measured.push(Run {
                secs,
                ..Run::default()
            }),
            Err(e) => return (Outcome::Failed(e), 0.0),
        }
    }
    let mut secs: Vec<f64> = measured.iter().map(|r| r.secs).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs.get(secs.len() / 2).copied().unwrap_or(0.0);
    (Outcome::Done(Measured::of_process(measured)), median)
}

/// A filter row: the CPU the filter adds per run (the run's CPU less
/// `alone`), its alerts checked against `expected` (native rule-core's).
pub(super) fn filter_row(
    bin: &Path,
    input: &Input,
    filter: Filter<'_>,
    alone: f64,
    expected: &[String],
    runs: usize,
    tmp: &Path,
) -> Outcome {
    let dir = tmp.join("fluent-bit-filter");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Outcome::Failed(format!("{}: {e}", dir.display()));
    }
    let mut measured = Vec::new();
    for i in 0..=runs.max(1) {
        match run_once(bin, input, filter, &dir) {
            Ok(_) if i == 0 => {}
            Ok((secs, alerts)) => {
                if alerts != expected {
                    return Outcome::Failed(format!(
                        "Fluent Bit gave {} alerts, native rule-core {} (or other ones)",
                        alerts.len(),
                        expected.len()
                    ));
                }
                measured.push(Run {
                    secs: (secs - alone).max(0.0),
                    alerts,
                    ..Run::default()
                });
            }
            Err(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Done(Measured::of_process(measured))
}

/// Native rule-core's alerts on the file (per alert its events' ids):
/// the seed rule, or the engine built from `pack`.
pub(super) fn native_alerts(input: &Input, pack: Option<&host_harness::Pack>) -> Vec<String> {
    let mut engine = match pack {
        None => rule_core::Engine::with_embedded_rule(),
        Some(p) => rule_core::Engine::with_pack(p.entries(), rule_core::Limits::default()).0,
    };
    let mut out = Vec::new();
    for line in input.data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let _ = engine.push(line);
        out.extend(
            engine
                .drain()
                .into_iter()
                .map(|a| a.into_string().into_bytes()),
        );
    }
    engine.flush();
    out.extend(
        engine
            .drain()
            .into_iter()
            .map(|a| a.into_string().into_bytes()),
    );
    ndjson_alert_ids(&[out.join(&b'\n')])
}

/// How `run_rows` takes a row: its pack label, key, description, mode,
/// and what measures it (the empty-state outcome, no pending one).
pub(super) type AddRow<'a> =
    dyn FnMut(Option<&str>, &str, &str, Mode, &mut dyn FnMut() -> (Outcome, Option<Outcome>)) + 'a;

/// Adds the Fluent Bit rows through `add` (key, description, outcome).
pub(super) fn rows(args: &super::BenchArgs, input: &Input, add: &mut AddRow<'_>, tmp: &Path) {
    let runs = args.runs;
    let bin = match fluent_bit_binary(args.fluent_bit.as_deref()) {
        Ok(bin) => bin,
        Err(why) => {
            add(
                None,
                "fluent-bit",
                "real Fluent Bit",
                Mode::Event,
                &mut || (Outcome::Absent(why.clone()), None),
            );
            return;
        }
    };
    let mut alone = 0.0;
    add(
        Some("fluent-bit-alone"),
        "fluent-bit-alone",
        "Fluent Bit 5.1.1 alone: tail (exit_on_eof) + json parser, MessagePack to /dev/null; \
         CPU (user+sys) of the process",
        Mode::Event,
        &mut || {
            let (o, median) = alone_row(&bin, input, runs, tmp);
            alone = median;
            (o, None)
        },
    );
    if !super::rows::selected(&args.only, "fluent-bit-alone") {
        alone = alone_row(&bin, input, runs, tmp).1;
    }
    let linux = linux_pack_list();
    let pack = host_harness::Pack::load(std::slice::from_ref(&linux)).ok();
    for (label, with_pack) in [(None, false), (Some("linux"), true)] {
        let base = if with_pack {
            "fluent-bit-linux"
        } else {
            "fluent-bit"
        };
        let keys = [
            base.to_string(),
            format!("{base}-msgpack"),
            format!("{base}-aot"),
            format!("{base}-aot-msgpack"),
        ];
        if !keys.iter().any(|k| super::rows::selected(&args.only, k)) {
            continue;
        }
        let module = match (with_pack, &pack) {
            (true, None) => Err(format!("no pack at {}", linux.display())),
            (true, Some(_)) => build_filter(Some(&linux)),
            (false, _) => build_filter(None),
        };
        let expected = native_alerts(input, if with_pack { pack.as_ref() } else { None });
        let rules = if with_pack {
            "the Linux + Defend pack (327 rules) built in"
        } else {
            "the seed rule"
        };
        let wants_aot = [&keys[2], &keys[3]]
            .iter()
            .any(|k| super::rows::selected(&args.only, k));
        let aot = match (&module, wants_aot) {
            (Ok(m), true) => wamrc_binary(args.flb_wamrc.as_deref(), &bin).and_then(|w| {
                super::note(&format!(
                    "{base}-aot: compiling the module with flb-wamrc (untimed)"
                ));
                compile_aot(&w, m, &tmp.join("aot"), &format!("{base}.aot"))
            }),
            (Err(e), true) => Err(e.clone()),
            (_, false) => Err(String::new()),
        };
        for (i, key) in keys.iter().enumerate() {
            let (msgpack, ahead) = (i % 2 == 1, i >= 2);
            let how = if ahead {
                "compiled ahead of time (flb-wamrc), in Fluent Bit's WAMR"
            } else {
                "in Fluent Bit's WAMR interpreter"
            };
            let what = if msgpack {
                format!("rule-fluentbit {how}, {rules}, alerts_only_msgpack, event_format msgpack; CPU added per record")
            } else {
                format!("rule-fluentbit {how}, {rules}, alerts_only, event_format json; CPU added per record")
            };
            let module = if ahead { &aot } else { &module };
            add(label, key, &what, Mode::Event, &mut || {
                if ahead && module.as_ref().is_err_and(|e| e.starts_with("not run")) {
                    let why = module.as_ref().err().cloned().unwrap_or_default();
                    return (Outcome::Absent(why), None);
                }
                let outcome = match module {
                    Ok(m) => {
                        let filter = if msgpack {
                            Filter::Msgpack(m)
                        } else {
                            Filter::Json(m)
                        };
                        filter_row(&bin, input, filter, alone, &expected, runs, tmp)
                    }
                    Err(e) => Outcome::Failed(format!("module: {e}")),
                };
                (outcome, None)
            });
        }
    }
}
