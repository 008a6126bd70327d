//! The js rows: rule-js under Node, in its own process
//! (`host-harness/bench/node_bench.cjs`).

use std::path::Path;
use std::process::{Command, Stdio};

use host_harness::workspace_dir;
use serde_json::Value;

use super::fill::Fill;
use super::input::Input;
use super::measure::*;
use super::BenchArgs;

/// The js row in `mode`: on the empty state and, with `fill`, the filled one.
pub(super) fn node_row(
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
pub(super) fn node_outcome(
    v: &Value,
    filled: bool,
    peak: Option<u64>,
    memory: Option<u64>,
) -> Outcome {
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
