//! The tables and the goals, as printed.

use std::fmt::Write as _;

use super::input::Input;
use super::measure::*;

/// How a row's alerts compare with the first row's.
pub(super) fn agreement(outcome: &Outcome, reference: &[String]) -> (bool, String) {
    let Outcome::Done(m) = outcome else {
        return (true, String::new());
    };
    let alerts = m.alerts();
    if !m.consistent {
        return (false, format!("{} (runs differ!)", alerts.len()));
    }
    if alerts == reference {
        return (true, format!("{} same", alerts.len()));
    }
    let mut a: Vec<&String> = alerts.iter().collect();
    let mut b: Vec<&String> = reference.iter().collect();
    a.sort();
    b.sort();
    if a == b {
        return (false, format!("{} same set, other order", alerts.len()));
    }
    let only_here = a.iter().filter(|x| b.binary_search(x).is_err()).count();
    let only_there = b.iter().filter(|x| a.binary_search(x).is_err()).count();
    (
        false,
        format!("{} DIFFER (+{only_here} -{only_there})", alerts.len()),
    )
}

pub(super) fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1 << 20) as f64)
}

pub(super) fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "–".into())
}

/// The table; returns whether every row that must agree did.
pub(super) fn pick_outcome(r: &Row, pending: bool) -> Option<&Outcome> {
    if pending {
        r.pending.as_ref()
    } else {
        Some(&r.outcome)
    }
}

pub(super) fn table<'a>(
    out: &mut String,
    rows: &'a [Row],
    input: &Input,
    python_must_agree: bool,
    pending: bool,
    notes: &mut Vec<String>,
) -> bool {
    let pick = |r: &'a Row| -> Option<&'a Outcome> { pick_outcome(r, pending) };
    // Each row against the first row that runs the same rules.
    let reference = |pack: &Option<String>| -> Vec<String> {
        rows.iter()
            .filter(|r| &r.pack == pack)
            .find_map(|r| match pick(r) {
                Some(Outcome::Done(m)) if r.key != "python" => Some(m.alerts().to_vec()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let ns = |m: &Measured| m.best() * 1e9 / input.events().max(1) as f64;
    let base = |mode: Mode| {
        let key = if mode == Mode::Batch {
            "native-batch"
        } else {
            "native"
        };
        rows.iter().find_map(|r| match pick(r) {
            Some(Outcome::Done(m)) if r.key == key => Some(ns(m)),
            _ => None,
        })
    };
    if pending {
        let _ = writeln!(
            out,
            "| row | events/s | MB/s | ns/event (median) | × native | instr/event | rate vs empty | state B/pending | memory B/pending | pending at end | alerts |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    } else {
        let _ = writeln!(
            out,
            "| row | events/s | MB/s | ns/event (median) | × native | instr/event | peak RSS MiB | RSS growth MiB | wasm memory MiB | alerts |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    }
    let mut ok = true;
    for row in rows {
        let Some(outcome) = pick(row) else {
            continue;
        };
        let m = match outcome {
            Outcome::Done(m) => m,
            Outcome::Absent(why) => {
                let _ = writeln!(out, "| {} | {why} |", row.key);
                continue;
            }
            Outcome::Failed(why) => {
                ok = false;
                let _ = writeln!(out, "| {} | FAILED: {why} |", row.key);
                continue;
            }
        };
        let best = m.best();
        let per_event = ns(m);
        let median_ns = m.median() * 1e9 / input.events().max(1) as f64;
        let times = base(row.mode)
            .or_else(|| base(Mode::Event))
            .map(|b| format!("{:.2}", per_event / b));
        let (agrees, alerts) = agreement(outcome, &reference(&row.pack));
        let alerts = if row.key == "python" && !agrees && !python_must_agree {
            notes.push(format!(
                "python: {alerts} against the other rows: this file is outside the domain where \
                 eql 1.0.1 and Elasticsearch agree (run with --profile reference to compare \
                 alert for alert); its time is still the time of the same work"
            ));
            format!("{alerts} (see notes)")
        } else {
            if !agrees {
                ok = false;
            }
            alerts
        };
        let rate = input.events() as f64 / best;
        let mbps = input.bytes() as f64 / best / 1e6;
        let head = format!(
            "| {} | {:.0} | {:.1} | {:.0} ({:.0}) | {} ",
            row.key,
            rate,
            mbps,
            per_event,
            median_ns,
            opt(times)
        );
        if pending {
            let empty_rate = match &row.outcome {
                Outcome::Done(em) => Some(input.events() as f64 / em.best()),
                _ => None,
            };
            let last = m.last();
            let fill = last.fill.as_ref();
            let per = |v: Option<i64>| {
                fill.filter(|f| f.pending > 0)
                    .zip(v)
                    .map(|(f, v)| format!("{:.0}", v as f64 / f.pending as f64))
            };
            let state = fill
                .filter(|f| f.pending > 0)
                .map(|f| format!("{:.0}", f.state_bytes as f64 / f.pending as f64));
            let memory = per(fill.and_then(|f| f.memory_delta.or(f.rss_delta)));
            let end = last.end.map(|(p, ev)| {
                if ev > 0 {
                    format!("{p} ({ev} evicted)")
                } else {
                    p.to_string()
                }
            });
            let _ = writeln!(
                out,
                "{head}| {} | {} | {} | {} | {} | {alerts} |",
                opt(row.pending_instructions.map(|i| format!("{i:.0}"))),
                opt(empty_rate.map(|e| format!("{:.0}%", rate / e * 100.0))),
                opt(state),
                opt(memory),
                opt(end),
            );
        } else {
            let _ = writeln!(
                out,
                "{head}| {} | {} | {} | {} | {alerts} |",
                opt(row.instructions.map(|i| format!("{i:.0}"))),
                opt(m.peak_rss.map(mib)),
                opt(m.rss_growth.map(mib)),
                opt(m.memory.map(mib)),
            );
        }
    }
    if !pending {
        let _ = writeln!(out, "\nRows:");
        for row in rows {
            let _ = writeln!(out, "- {}: {}", row.key, row.what);
        }
    }
    ok
}

/// The goals of issue 7, as far as this run measured them.
pub(super) fn goals(out: &mut String, rows: &[Row], pending: bool, input: &Input) {
    let best = |key: &str| {
        rows.iter().find_map(|r| match &r.outcome {
            Outcome::Done(m) if r.key == key => Some(m.best()),
            _ => None,
        })
    };
    let mbps = |s: f64| input.bytes() as f64 / s / 1e6;
    let _ = writeln!(out, "\nGoals (best runs):");
    if pending {
        let pending_best = |key: &str| {
            rows.iter().find_map(|r| match &r.pending {
                Some(Outcome::Done(m)) if r.key == key => Some(m.best()),
                _ => None,
            })
        };
        for row in rows {
            let key = row.key.as_str();
            if let (Some(p), Some(e)) = (pending_best(key), best(key)) {
                let _ = writeln!(
                    out,
                    "- {key}: with the pending state, {:.0}% of the empty-state rate (goal >= 80%)",
                    e / p * 100.0
                );
            }
        }
        return;
    }
    for key in ["wasm", "wasm-batch"] {
        if let Some(s) = best(key) {
            let _ = writeln!(
                out,
                "- {key}: {:.0} MB/s (goal >= 1000 MB/s, one core)",
                mbps(s)
            );
        }
    }
    for (w, n) in [("wasm", "native"), ("wasm-batch", "native-batch")] {
        if let (Some(w_s), Some(n_s)) = (best(w), best(n)) {
            let _ = writeln!(
                out,
                "- {w} / {n}: {:.2}x the time (goal <= 1.3x)",
                w_s / n_s
            );
        }
    }
    for (cli, engine) in [("cli-native", "native"), ("cli-wasm", "wasm")] {
        if let (Some(c), Some(e)) = (best(cli), best(engine)) {
            let _ = writeln!(
                out,
                "- {cli}: {:.0}% of the {engine} engine loop's rate (goal >= 90%)",
                e / c * 100.0
            );
        }
    }
    // A pack's row against the seed rule's row of the same face: its key
    // without the pack's label (`fluent-bit-linux-aot` and `fluent-bit-aot`).
    for row in rows {
        let Some(label) = &row.pack else { continue };
        let base = row.key.replacen(&format!("-{label}"), "", 1);
        if base == row.key {
            continue;
        }
        if let (Some(p), Some(b)) = (best(&row.key), best(&base)) {
            let _ = writeln!(
                out,
                "- {}: {:.0}% of the seed rule's {base} rate (goal >= 50%)",
                row.key,
                b / p * 100.0
            );
        }
    }
    for key in ["fluent-bit", "fluent-bit-msgpack"] {
        if let Some(s) = best(key) {
            let _ = writeln!(
                out,
                "- {key}: {:.1} µs of CPU added per record in WAMR's interpreter (goal <= 20 µs)",
                s * 1e6 / input.events().max(1) as f64
            );
        }
    }
    if let Some(py) = best("python") {
        for key in ["native", "wasm", "wasm-batch"] {
            if let Some(s) = best(key) {
                let _ = writeln!(
                    out,
                    "- {key}: {:.0}x the Python reference's rate (goal >= 100x)",
                    py / s
                );
            }
        }
    }
}
