//! The cli rows: `rulehost run` (this executable) over the file as a whole
//! process, timed from spawn to exit: reading the file, finding the lines,
//! the engine, writing the alerts to a file. The wasm row loads the module
//! compiled by the warm-up run from a cache in the bench's temporary
//! directory, as a second `rulehost run` on the machine would.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::input::Input;
use super::measure::*;

/// `rulehost run ARGS FILE`, a warm-up then `runs` timed runs.
pub(super) fn cli_row(
    input: &Input,
    backend: &[&std::ffi::OsStr],
    runs: usize,
    tmp: &Path,
) -> Outcome {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Outcome::Failed(format!("cannot find this executable: {e}")),
    };
    let out_path = tmp.join("cli-alerts.ndjson");
    let mut measured = Vec::new();
    for i in 0..=runs.max(1) {
        let out = match std::fs::File::create(&out_path) {
            Ok(f) => f,
            Err(e) => return Outcome::Failed(format!("{}: {e}", out_path.display())),
        };
        let started = Instant::now();
        let child = Command::new(&exe)
            .arg("run")
            .args(backend)
            .arg("--cache-dir")
            .arg(tmp.join("module-cache"))
            .arg(&input.path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::piped())
            .output();
        let secs = started.elapsed().as_secs_f64();
        let child = match child {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(format!("cannot run {}: {e}", exe.display())),
        };
        if !child.status.success() {
            let stderr = String::from_utf8_lossy(&child.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            return Outcome::Failed(format!(
                "rulehost run {}: {}",
                child.status,
                last.unwrap_or("no message")
            ));
        }
        if i == 0 {
            continue; // warm-up (it fills the module cache)
        }
        let alerts = match std::fs::read(&out_path) {
            Ok(bytes) => ndjson_alert_ids(&[bytes]),
            Err(e) => return Outcome::Failed(format!("{}: {e}", out_path.display())),
        };
        measured.push(Run {
            secs,
            alerts,
            ..Run::default()
        });
    }
    let _ = std::fs::remove_file(&out_path);
    Outcome::Done(Measured::of_process(measured))
}
