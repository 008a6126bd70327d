//! The semantics table of rule-core (tests/fixtures/semantics.json), every
//! case through the wasm module, natively and through the component: the
//! alerts must be byte for byte the same, hold the expected sequences, and
//! the refused events must get the expected codes.
//!
//! The file's format: [`tests::semantics`].

use std::fmt::Write as _;

use host_harness::{Detector, HostError};
use tests::semantics::{Case, ExpectedError};
use tests::{alert_event_ids, component, native, semantics, wasm};

/// What one backend made of a case.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    alerts: Vec<String>,
    errors: Vec<ExpectedError>,
}

fn run(d: &mut dyn Detector, case: &Case, events: &[String]) -> Result<Run, String> {
    if let Some(eql) = &case.rule {
        let config = serde_json::json!({"rule": {"eql": eql}});
        d.configure(config.to_string().as_bytes())
            .map_err(|e| format!("configure: {e}"))?;
    }
    let mut out = Run {
        alerts: Vec::new(),
        errors: Vec::new(),
    };
    let collect = |d: &mut dyn Detector, out: &mut Run| -> Result<(), String> {
        let bytes = d.drain_alerts().map_err(|e| format!("drain_alerts: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|e| format!("alerts: {e}"))?;
        out.alerts.extend(text.lines().map(str::to_string));
        Ok(())
    };
    for (index, event) in events.iter().enumerate() {
        match d.push_event(event.as_bytes()) {
            Ok(_) => {}
            Err(HostError::Refused { code, .. }) => out.errors.push(ExpectedError { index, code }),
            Err(e) => return Err(format!("event {index}: {e}")),
        }
        collect(d, &mut out)?;
    }
    d.flush().map_err(|e| format!("flush: {e}"))?;
    collect(d, &mut out)?;
    Ok(out)
}

/// The same case as one NDJSON batch: the same alerts, and the refused
/// lines are the refused events.
fn run_batch(d: &mut dyn Detector, case: &Case, events: &[String]) -> Result<Run, String> {
    if let Some(eql) = &case.rule {
        let config = serde_json::json!({"rule": {"eql": eql}});
        d.configure(config.to_string().as_bytes())
            .map_err(|e| format!("configure: {e}"))?;
    }
    let batch = events.join("\n");
    let outcome = d
        .push_events(batch.as_bytes())
        .map_err(|e| format!("push_events: {e}"))?;
    d.flush().map_err(|e| format!("flush: {e}"))?;
    let bytes = d.drain_alerts().map_err(|e| format!("drain_alerts: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| format!("alerts: {e}"))?;
    Ok(Run {
        alerts: text.lines().map(str::to_string).collect(),
        // Codes are not in the batch answer; the line is the index + 1.
        errors: outcome
            .refused
            .iter()
            .map(|r| ExpectedError {
                index: r.line - 1,
                code: 0,
            })
            .collect(),
    })
}

#[test]
fn every_semantics_case_runs_alike_in_wasm_natively_and_in_the_component() {
    let table = semantics::table();
    assert!(!table.cases.is_empty(), "the semantics table has no cases");

    let mut failures = String::new();
    let mut alerts_seen = 0;
    for case in &table.cases {
        let label = format!("{} {}", case.row, case.name);
        // Serialised once: both backends get the very same bytes.
        let events: Vec<String> = case.events.iter().map(|e| e.to_string()).collect();
        let w = run(&mut wasm(), case, &events);
        let n = run(&mut native(), case, &events);
        let c = run(&mut component(), case, &events);
        let (w, n, c) = match (w, n, c) {
            (Ok(w), Ok(n), Ok(c)) => (w, n, c),
            (w, n, c) => {
                let _ = writeln!(
                    failures,
                    "{label}: wasm {:?}, native {:?}, component {:?}",
                    w.err(),
                    n.err(),
                    c.err()
                );
                continue;
            }
        };
        if w.alerts != n.alerts {
            let _ = writeln!(
                failures,
                "{label}: wasm and native alerts differ\n  wasm:   {:?}\n  native: {:?}",
                w.alerts, n.alerts
            );
        }
        if c != w {
            let _ = writeln!(
                failures,
                "{label}: the component differs from the module\n  component: {c:?}\n  wasm:      {w:?}"
            );
        }
        let sequences: Vec<Vec<String>> = w.alerts.iter().map(|a| alert_event_ids(a)).collect();
        if sequences != case.expect {
            let _ = writeln!(
                failures,
                "{label}: sequences {sequences:?}, expected {:?}",
                case.expect
            );
        }
        let mut expected_errors = case.errors.clone();
        expected_errors.sort();
        if w.errors != expected_errors || n.errors != expected_errors {
            let _ = writeln!(
                failures,
                "{label}: refused events: wasm {:?}, native {:?}, expected {expected_errors:?}",
                w.errors, n.errors
            );
        }
        // Each alert's `Events` hold the events exactly as pushed.
        for alert in &w.alerts {
            if let Some(events_json) = serde_json::from_str::<serde_json::Value>(alert)
                .ok()
                .and_then(|v| v.get("Events").cloned())
            {
                for e in events_json.as_array().into_iter().flatten() {
                    if !case.events.contains(e) {
                        let _ =
                            writeln!(failures, "{label}: an alert holds an event not pushed: {e}");
                    }
                }
            }
        }
        // The batch path agrees with event by event, in the module and the
        // component.
        for batch in [
            run_batch(&mut wasm(), case, &events),
            run_batch(&mut component(), case, &events),
        ] {
            match batch {
                Ok(b) => {
                    if b.alerts != w.alerts {
                        let _ = writeln!(
                        failures,
                        "{label}: push_events gives other alerts than push_event\n  batch:  {:?}\n  single: {:?}",
                        b.alerts, w.alerts
                    );
                    }
                    let lines: Vec<usize> = b.errors.iter().map(|e| e.index).collect();
                    let singles: Vec<usize> = w.errors.iter().map(|e| e.index).collect();
                    if lines != singles {
                        let _ = writeln!(
                        failures,
                        "{label}: push_events refused lines {lines:?}, push_event refused {singles:?}"
                    );
                    }
                }
                Err(e) => {
                    let _ = writeln!(failures, "{label}: batch: {e}");
                }
            }
        }
        alerts_seen += w.alerts.len();
    }
    assert!(
        failures.is_empty(),
        "{} cases, failures:\n{failures}",
        table.cases.len()
    );
    eprintln!(
        "{} cases, {alerts_seen} alerts, wasm == native == component",
        table.cases.len()
    );
}
