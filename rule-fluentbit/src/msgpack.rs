//! `event_format msgpack`: the record arrives as MessagePack (Fluent Bit's
//! own format, lengths first, so the engine passes over what no rule reads
//! without scanning it) and the reply goes back as MessagePack.
//!
//! Fluent Bit 5.1.1 reads a MessagePack reply with `strlen`
//! (`flb_wasm_call_function_format_msgpack` copies it with `flb_strdup`),
//! so a reply must hold no zero byte, or Fluent Bit keeps a record cut at
//! the first one and the chunk is corrupt (fluent/fluent-bit#9976). A
//! record itself often holds zero bytes (the integer 0, a map of 16 to 255
//! keys, a length that is a multiple of 256), so it cannot be passed back:
//! only `alerts_only_msgpack` exists, and its reply is built of parts that
//! hold none: `{"alerts":["<alert JSON>",...],"rule_refused":"<JSON>"}`,
//! each alert the engine's JSON document as a MessagePack string (a string
//! of 256 bytes or more whose length is a multiple of 256 gets one space
//! more, JSON white space), at most 15 alerts per reply (the rest go out
//! with the next reply), and an alert longer than 65,535 bytes (its length
//! would need a zero byte) replaced by a `{"rule_error":"alert_too_large",
//! ...}` string and counted. A record that completes nothing is dropped by
//! answering a pointer past linear memory: Fluent Bit then logs a warning
//! (`[wasm] returned value is invalid`, hidden under `log_level error`) and
//! skips the record, the only way to drop one in this format (an empty
//! reply is taken as an empty body and corrupts the chunk).

use std::fmt::Write as _;

use rule_core::{msgpack_depth, Alert};

use crate::{Filter, OutOfMemory, Record, FLUENT_BIT_MAX_DEPTH, MAX_RECORD_DEPTH};

/// The most alerts one reply carries: a fixarray's count.
pub const MAX_ALERTS_PER_REPLY: usize = 15;

/// The longest string a reply can carry with no zero byte in its header.
pub const MAX_STRING_BYTES: usize = 0xffff;

/// What the MessagePack filter answers.
#[derive(Debug, PartialEq, Eq)]
pub enum MsgpackReply<'a> {
    /// The reply with its NUL terminator.
    Reply(&'a [u8]),
    /// Drop the record.
    Drop,
}

impl Filter {
    /// One MessagePack record through `alerts_only_msgpack`.
    pub fn call_msgpack(
        &mut self,
        time_sec: u32,
        time_nsec: u32,
        record: Record<'_>,
    ) -> MsgpackReply<'_> {
        self.begin_call();
        let built = match record {
            Record::Bytes(bytes) => {
                self.msgpack_one(crate::record_time_ms(time_sec, time_nsec), bytes)
            }
            lost => match self.count_lost(lost) {
                Some(kind) => self.msgpack_lost(kind),
                None => Ok(false),
            },
        };
        match built {
            Ok(false) => MsgpackReply::Drop,
            Ok(true) => {
                self.reply.push(0);
                MsgpackReply::Reply(&self.reply)
            }
            Err(OutOfMemory) => {
                self.counters.out_of_memory += 1;
                self.reply = Vec::new();
                MsgpackReply::Reply(OUT_OF_MEMORY_REPLY)
            }
        }
    }

    /// Pushes the record; `Ok(true)` when a reply was built.
    fn msgpack_one(&mut self, fallback_ms: i64, bytes: &[u8]) -> Result<bool, OutOfMemory> {
        if msgpack_depth(bytes, MAX_RECORD_DEPTH).is_none() {
            self.counters.too_deep += 1;
            self.set_last(format_args!(
                "the record nests deeper than {MAX_RECORD_DEPTH} levels: an alert holding it \
                 would pass the {FLUENT_BIT_MAX_DEPTH} levels Fluent Bit carries"
            ));
        } else {
            match self
                .engine
                .push_msgpack_with_fallback_time(bytes, fallback_ms)
            {
                Ok(_) => self.counters.taken += 1,
                Err(e) => {
                    self.counters.refused += 1;
                    self.set_last(format_args!("{e}"));
                }
            }
        }
        let mut alerts = core::mem::take(&mut self.carry);
        alerts.extend(self.engine.drain());
        if alerts.is_empty() {
            return Ok(false);
        }
        self.msgpack_reply(None, alerts).map(|()| true)
    }

    fn msgpack_lost(&mut self, kind: &str) -> Result<bool, OutOfMemory> {
        let alerts = core::mem::take(&mut self.carry);
        self.msgpack_reply(Some(kind), alerts).map(|()| true)
    }

    /// `{["rule_error":kind,"message":...,]"alerts":[...],"rule_refused":...}`
    /// with at most [`MAX_ALERTS_PER_REPLY`] alerts; the others are held
    /// for the next reply.
    fn msgpack_reply(
        &mut self,
        error: Option<&str>,
        mut alerts: Vec<Alert>,
    ) -> Result<(), OutOfMemory> {
        let later = alerts.split_off(alerts.len().min(MAX_ALERTS_PER_REPLY));
        let refused = (self.counters.not_seen() > 0
            || self.counters.out_of_memory > 0
            || self.counters.alerts_too_large > 0)
            .then(|| self.refused_summary());
        // The message as JSON escapes it (no NUL), without the quotes.
        let message = error.map(|_| {
            let quoted = crate::json_string(&self.last_error);
            quoted[1..quoted.len() - 1].to_string()
        });
        let size = alerts.iter().map(|a| a.as_str().len() + 4).sum::<usize>()
            + refused.as_ref().map_or(0, |r| r.len() + 20)
            + message.as_ref().map_or(0, |m| m.len() + 40)
            + 16;
        let built = self.reserve(size).map(|()| {
            let members = usize::from(!alerts.is_empty())
                + usize::from(refused.is_some())
                + 2 * usize::from(error.is_some());
            self.reply.push(0x80 | members as u8);
            if let (Some(kind), Some(message)) = (error, &message) {
                put_str(&mut self.reply, "rule_error");
                put_str(&mut self.reply, kind);
                put_str(&mut self.reply, "message");
                put_str(&mut self.reply, message);
            }
            if !alerts.is_empty() {
                put_str(&mut self.reply, "alerts");
                self.reply.push(0x90 | alerts.len() as u8);
                for alert in &alerts {
                    let text = alert.as_str();
                    if text.len() > MAX_STRING_BYTES {
                        self.counters.alerts_too_large += 1;
                        let mut marker = String::new();
                        let _ = write!(
                            marker,
                            "{{\"rule_error\":\"alert_too_large\",\"bytes\":{},\"message\":\
                             \"an alert over {MAX_STRING_BYTES} bytes cannot go back to Fluent \
                             Bit as MessagePack (its length would hold a zero byte); use \
                             event_format json\"}}",
                            text.len()
                        );
                        put_str(&mut self.reply, &marker);
                    } else {
                        put_str(&mut self.reply, text);
                    }
                }
            }
            if let Some(refused) = &refused {
                put_str(&mut self.reply, "rule_refused");
                put_str(&mut self.reply, refused);
            }
        });
        let delivered = alerts.len();
        if built.is_ok() {
            self.counters.alerts += delivered as u64;
            self.carry = later;
        } else {
            alerts.extend(later);
            self.carry = alerts;
        }
        built
    }
}

/// The answer when even the reply could not be allocated (MessagePack,
/// NUL-terminated, no zero byte before it).
const OUT_OF_MEMORY_REPLY: &[u8] = b"\x82\xaarule_error\xadout_of_memory\xa7message\xd9\x28the module could not allocate its reply\0";

/// A MessagePack string with no zero byte: `s` holds none (JSON text), and
/// its header holds none (a 16-bit length that is a multiple of 256 gets a
/// trailing space). `s` is at most [`MAX_STRING_BYTES`] long.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    let pad = n >= 256 && n % 256 == 0;
    match n + usize::from(pad) {
        len @ 0..=31 => out.push(0xa0 | len as u8),
        len @ 32..=255 => out.extend([0xd9, len as u8]),
        len => {
            out.push(0xda);
            out.extend((len as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(s.as_bytes());
    if pad {
        out.push(b' ');
    }
}
