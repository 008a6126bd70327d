//! The python row: the reference engine, Python `eql` 1.0.1, through
//! `tests/reference/eql_reference.py`, in its own process.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use host_harness::workspace_dir;

use super::input::Input;
use super::measure::*;

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

pub(super) fn python_row(input: &Input, runs: usize) -> Outcome {
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
