//! `--pending N`: the stage-1 events pushed, untimed, before each run to
//! hold N sequences open.

use std::io::Write as _;

use rule_core::Engine;
use serde_json::Value;

use super::input::{defend_time, Input};

/// Stage-1 events that differ only in `process.entity_id`: event `i` is
/// `pre + i (zero-padded to id_width) + post`. Serialised for the child
/// that callgrind counts (`instructions.rs`), which pushes the same fill.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Fill {
    pub(super) pre: String,
    pub(super) post: String,
    pub(super) id_width: usize,
    pub(super) count: usize,
    /// Bytes of one fill event.
    pub(super) event_bytes: usize,
}

pub(super) const FILL_MARK: &str = "@@FILL-ID@@";

impl Fill {
    /// A template from the first event of `input` that passes stage 1 (a
    /// Defend-sized network event), its time set to `ts_ms`; a small
    /// hand-written one when the input has none.
    pub(super) fn new(input: &Input, ts_ms: i64, count: usize) -> Fill {
        let ts = defend_time(ts_ms);
        let mut engine = Engine::with_embedded_rule();
        let mut template = None;
        for r in &input.lines {
            let before = engine.stats().stage_matches.first().copied();
            if engine.push(&input.data[r.clone()]).is_err() {
                continue;
            }
            let _ = engine.drain();
            if engine.stats().stage_matches.first().copied() != before {
                template = Fill::from_event(&input.data[r.clone()], &ts, count);
                if template.is_some() {
                    break;
                }
            }
        }
        template.unwrap_or_else(|| {
            let fallback = format!(
                r#"{{"@timestamp":"{ts}","event":{{"category":["network"],"type":["start"],"action":"connection_attempted","id":"fill"}},"host":{{"id":"fill-host","os":{{"type":"linux"}}}},"process":{{"entity_id":"{FILL_MARK}","executable":"/tmp/agent","name":"agent"}},"destination":{{"ip":"93.184.216.34","port":443}}}}"#
            );
            Fill::from_event(fallback.as_bytes(), &ts, count).expect("the fallback is a stage-1 event")
        })
    }

    pub(super) fn from_event(event: &[u8], ts: &str, count: usize) -> Option<Fill> {
        let mut v: Value = serde_json::from_slice(event).ok()?;
        let width = v["process"]["entity_id"].as_str()?.len().max(12);
        v["process"]["entity_id"] = Value::String(FILL_MARK.into());
        v["@timestamp"] = Value::String(ts.into());
        let text = serde_json::to_string(&v).ok()?;
        let (pre, post) = text.split_once(FILL_MARK)?;
        let fill = Fill {
            pre: pre.into(),
            post: post.into(),
            id_width: width,
            count,
            event_bytes: pre.len() + width + post.len(),
        };
        // It must open a pending sequence of its own.
        let mut engine = Engine::with_embedded_rule();
        let mut buf = Vec::new();
        fill.event(0, &mut buf);
        fill.event(1, &mut buf);
        buf.pop();
        engine.push_ndjson(&buf).ok()?;
        (engine.stats().pending_sequences == 2).then_some(fill)
    }

    /// Appends event `i` and a `\n`.
    pub(super) fn event(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.pre.as_bytes());
        let _ = write!(out, "{i:0w$}", w = self.id_width);
        out.extend_from_slice(self.post.as_bytes());
        out.push(b'\n');
    }

    /// The fill as NDJSON batches of about `batch_bytes`.
    pub(super) fn for_each_batch(
        &self,
        batch_bytes: usize,
        mut f: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut buf = Vec::with_capacity(batch_bytes + self.event_bytes + 1);
        for i in 0..self.count {
            self.event(i, &mut buf);
            if buf.len() >= batch_bytes {
                f(&buf)?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            f(&buf)?;
        }
        Ok(())
    }
}
