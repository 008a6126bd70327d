//! What Fluent Bit must get: the native engine's alerts for the same
//! records and times, `rulehost run`'s, and the check of one reply against
//! them.

use host_harness::Detector;
use rule_core::Engine as RuleEngine;
use serde_json::Value;
use tests::fluent_bit::PASS_THROUGH;

use super::host::{ms, Lost, Reply};

/// The native engine on the same records with the same record times: for
/// each record, the alerts it completed (`Err(code)` when refused).
pub(crate) fn native(
    records: &[String],
    times: &[(u32, u32)],
) -> (Vec<Result<Vec<String>, i32>>, Value) {
    let mut engine = RuleEngine::with_embedded_rule();
    let per_record = records
        .iter()
        .zip(times)
        .map(
            |(r, &t)| match engine.push_with_fallback_time(r.as_bytes(), ms(t)) {
                Ok(_) => Ok(engine
                    .drain()
                    .into_iter()
                    .map(|a| a.into_string())
                    .collect()),
                Err(e) => Err(e.code()),
            },
        )
        .collect();
    let stats = serde_json::from_str(&engine.stats().to_json()).expect("stats JSON");
    (per_record, stats)
}

/// The reply Fluent Bit must get for `record` in `function`, given the
/// native alerts; `refused` counts the records refused so far. Returns an
/// error text when `got` differs.
pub(crate) fn check_reply(
    function: &str,
    record: &str,
    alerts: &[String],
    refused: usize,
    got: &Reply,
) -> Result<(), String> {
    let prefix = match (function, alerts.is_empty()) {
        (PASS_THROUGH, true) => {
            return match got {
                Reply::Kept(text) if text == record => Ok(()),
                _ => Err(format!("expected the record unchanged, got {got:?}")),
            }
        }
        (_, true) => {
            return match got {
                Reply::Dropped(Lost::Empty) => Ok(()),
                _ => Err(format!("expected \"\" (dropped), got {got:?}")),
            }
        }
        (PASS_THROUGH, false) => format!(
            "{},\"alerts\":[{}]",
            &record[..record.len() - 1],
            alerts.join(",")
        ),
        (_, false) => format!("{{\"alerts\":[{}]", alerts.join(",")),
    };
    let Reply::Kept(text) = got else {
        return Err(format!("expected alerts, the record was dropped: {got:?}"));
    };
    let Some(rest) = text.strip_prefix(&prefix) else {
        return Err(format!(
            "the reply does not start with the native alerts\n  expected: {prefix}…\n  got:      {text}"
        ));
    };
    if refused == 0 {
        return if rest == "}" {
            Ok(())
        } else {
            Err(format!("unexpected tail after the alerts: {rest}"))
        };
    }
    let summary = rest
        .strip_prefix(",\"rule_refused\":")
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("expected rule_refused after the alerts, got {rest}"))?;
    let summary: Value =
        serde_json::from_str(summary).map_err(|e| format!("rule_refused: {e}: {summary}"))?;
    if summary["total"] != refused {
        return Err(format!("rule_refused total {summary}, expected {refused}"));
    }
    Ok(())
}

/// `rulehost run`'s path: the rule module, one NDJSON batch, flush, drain.
pub(crate) fn rulehost_alerts(records: &[String]) -> Vec<String> {
    let mut d = tests::wasm();
    let mut batch = records.join("\n");
    batch.push('\n');
    d.push_events(batch.as_bytes()).expect("push_events");
    d.flush().expect("flush");
    let bytes = d.drain_alerts().expect("drain_alerts");
    String::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}
