//! Events given as MessagePack (Fluent Bit's own record format): the same
//! engine, the record read by `decode::msgpack` instead of the JSON reader.
//! The event is written as JSON text only when a rule keeps it (an alert's
//! `Events` are JSON), so most records are never converted.

use alloc::sync::Arc;

use super::{event_text, Engine};
use crate::decode::decode;
use crate::decode::msgpack::{decode_msgpack, to_json};
use crate::error::PushError;

/// What a push hands the engine.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input<'a> {
    /// JSON text (as bytes: its UTF-8 is checked).
    Json(&'a [u8]),
    /// One MessagePack value (a map, to be taken).
    Msgpack(&'a [u8]),
}

impl Input<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Input::Json(b) | Input::Msgpack(b) => b.len(),
        }
    }
}

/// The text a rule keeps of an event: the JSON as pushed, or the
/// MessagePack record written as JSON.
pub(crate) fn kept(text: &str, msgpack: Option<&[u8]>) -> Arc<str> {
    match msgpack.and_then(to_json) {
        Some(json) => Arc::from(json),
        None => Arc::from(text),
    }
}

impl Engine {
    /// Takes one event given as a MessagePack map (Fluent Bit's record
    /// body) and returns the number of alerts waiting to be drained: the
    /// same as [`Engine::push`] of the same record as JSON (the same values
    /// read, the same refusals by kind; see the crate's `decode::msgpack`).
    /// Alerts carry the event as JSON text, written only for an event a
    /// rule keeps. A record that is not well-formed MessagePack is refused
    /// as [`PushError::InvalidJson`].
    pub fn push_msgpack(&mut self, record: &[u8]) -> Result<usize, PushError> {
        self.push_msgpack_counted(record, None)
    }

    /// As [`Engine::push_msgpack`], with the host's time for an event that
    /// has no `@timestamp`.
    pub fn push_msgpack_with_fallback_time(
        &mut self,
        record: &[u8],
        fallback_ms: i64,
    ) -> Result<usize, PushError> {
        self.push_msgpack_counted(record, Some(fallback_ms))
    }

    fn push_msgpack_counted(
        &mut self,
        record: &[u8],
        fallback_ms: Option<i64>,
    ) -> Result<usize, PushError> {
        let result = self.push_inner(Input::Msgpack(record), fallback_ms);
        if let Err(e) = &result {
            self.stats.errors.count(e.kind());
        }
        result
    }

    /// Decodes the event into `self.decoded`: its text (empty for
    /// MessagePack), the MessagePack record, and its length in bytes.
    pub(super) fn decode_input<'a>(
        &mut self,
        input: Input<'a>,
    ) -> Result<(&'a str, Option<&'a [u8]>, usize), PushError> {
        match input {
            Input::Json(event) => {
                let text = event_text(event)?;
                decode(&self.fields, &self.trie, text, &mut self.decoded)?;
                Ok((text, None, text.len()))
            }
            Input::Msgpack(record) => {
                if record.is_empty() {
                    return Err(PushError::Empty);
                }
                decode_msgpack(&self.fields, &self.trie, record, &mut self.decoded)?;
                Ok(("", Some(record), record.len()))
            }
        }
    }
}
