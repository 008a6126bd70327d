//! rule-core as a Fluent Bit `filter_wasm` module.
//!
//! Built for `wasm32-unknown-unknown`
//! (`cargo build -p rule-fluentbit --target wasm32-unknown-unknown --release`,
//! giving `target/wasm32-unknown-unknown/release/rule_fluentbit.wasm`), this
//! crate is a module that imports nothing and runs Elastic's EQL sequence
//! rule "Network Connection Followed by File Creation" on the records of a
//! Fluent Bit pipeline. Fluent Bit's `function_name` picks one of two
//! filters:
//!
//! - **`pass_through`**: every record comes out. A record that completes one
//!   or more sequences comes out with an `alerts` array added (the alerts it
//!   completed, each the same JSON text the native engine and `rulehost run`
//!   produce); every other record comes out as it came in, byte for byte.
//! - **`alerts_only`**: only alerts come out. A record that completes
//!   sequences is replaced by `{"alerts":[...]}` holding all of them (Fluent
//!   Bit takes at most one record back per record); every other record is
//!   dropped (the reply is `""`).
//!
//! A third function serves `event_format msgpack`:
//!
//! - **`alerts_only_msgpack`**: the record arrives as MessagePack (Fluent
//!   Bit's own format: lengths up front, so the engine passes over the
//!   values no rule reads by their headers, [`rule_core::Engine::push_msgpack`])
//!   and the reply goes back as MessagePack: `{"alerts":["<alert JSON>",...]}`
//!   for a record that completes sequences (each alert the engine's JSON
//!   document, as a string), an empty map `{}` for every other record.
//!   Fluent Bit 5.1.1 reads a MessagePack reply with `strlen`, so a reply
//!   can hold no zero byte (fluent/fluent-bit#9976): records, which often
//!   hold one, cannot be passed back (no `pass_through` in this format),
//!   alerts go as strings (at most 15 per reply, the rest with the next;
//!   one over 65,535 bytes is replaced by an `alert_too_large` marker and
//!   counted), and no reply can drop a record (an empty one corrupts the
//!   chunk, a pointer WAMR cannot read fails the next call too), hence
//!   `{}`. See `msgpack.rs`; BENCHMARKS.md has what it costs.
//!
//! # The calling convention (Fluent Bit 4.1 and later, `event_format json`)
//!
//! Fluent Bit converts each record to JSON and calls the function with six
//! `i32`: `(tag_ptr, tag_len, time_sec, time_nsec, record_ptr, record_len)`.
//!
//! - Tag and record are copied into the module's memory with its exported
//!   `malloc(size) -> ptr` (`size` is the length plus one: both are
//!   NUL-terminated), and released with `free(ptr)` after the call. A module
//!   that does not export both gets them copied into an 8 KiB heap instead
//!   (`wasm_heap_size`), and a record that does not fit arrives as
//!   `record_ptr = 0`; this module exports both, so any record that the
//!   memory can hold arrives. A zero pointer can still come when `malloc`
//!   fails: it is counted as a lost record and answered with an error marker
//!   (below).
//! - `record_len` does not count the NUL; a trailing NUL inside the length is
//!   stripped all the same. The tag is not used.
//! - `time_sec`/`time_nsec` are the record's Fluent Bit time (`time_sec` cut
//!   to 32 bits, read unsigned). It stands in for `@timestamp` when the
//!   record has none ([`rule_core::Engine::push_with_fallback_time`]).
//! - The function returns a pointer to a NUL-terminated JSON object. Fluent
//!   Bit copies it at once and never frees it, so every reply lives in one
//!   buffer the module owns and reuses on the next call. `""` drops the
//!   record; so does anything that is not one JSON object, a zero pointer
//!   or a trap, silently, which is why this module never answers those
//!   except by design (`""` in `alerts_only`).
//! - Fluent Bit 4.1 and later keep one instance for the filter's whole life
//!   (`cb_wasm_init` instantiates, `cb_wasm_exit` destroys), so the pending
//!   sequences survive from chunk to chunk. Earlier versions instantiate the
//!   module anew for every chunk in `cb_wasm_filter`, and sequences spanning
//!   two chunks are never seen (`examples/fluent-bit/README.md` has the
//!   sources).
//!
//! - WAMR's interpreter stack (`wasm_stack_size`, 8 KiB by default) holds
//!   ordinary records, but the engine's decoder recurses once per level of
//!   a field the rule reads: measured in Fluent Bit 5.1.1 (WAMR 2.4.1), 8
//!   KiB stops at 8 arrays under `destination.ip` (WAMR logs `wasm operand
//!   stack overflow` and Fluent Bit drops the record), and the deepest
//!   record this filter takes ([`MAX_RECORD_DEPTH`]) needs 32 KiB. Set
//!   `wasm_stack_size 64K` (`examples/fluent-bit/`); `wasm_heap_size` does
//!   not matter, since WAMR turns its heap off for a module exporting
//!   `malloc` and `free`.
//!
//! # Errors and counters
//!
//! - A record the engine refuses (a malformed IP, a field of the wrong type,
//!   a record over 1 MiB, ...) leaves the sequence state as it was and is
//!   counted by kind. In `pass_through` it still comes out unchanged; in
//!   `alerts_only` it is dropped like any record that completes nothing.
//! - So is a record nested deeper than [`MAX_RECORD_DEPTH`] (59) levels,
//!   before the engine sees it (`too_deep`): an alert holding it would nest
//!   past the 63 levels Fluent Bit carries, and Fluent Bit would lose that
//!   alert and the records after it in its chunk, silently.
//! - A record Fluent Bit could not hand over (`record_ptr = 0`, or a pointer
//!   outside memory) is counted and answered, in both modes, with an object
//!   Fluent Bit keeps: `{"rule_error":"null_record","message":"...",
//!   "rule_refused":{...}}`. The record itself is gone on Fluent Bit's side
//!   and the detector never saw it; dropping the call silently would hide a
//!   gap in detection, so the gap becomes a record of its own.
//! - A reply that cannot be allocated is answered with a static
//!   `{"rule_error":"out_of_memory",...}`; the alerts it would have carried
//!   are held and go out first in the next reply that can carry alerts. So
//!   are alerts that come due on a record `pass_through` must pass unchanged
//!   (one the engine refused): no alert is dropped.
//! - Every reply the module composes (alerts, error markers) carries
//!   `"rule_refused":{"total":N,"<kind>":n,...,"last":"<message>"}` once any
//!   record was refused or lost since the module started: the counters reach
//!   the pipeline's output with the next alert. The `stats` export (a
//!   NUL-terminated JSON object, for hosts other than Fluent Bit) has them
//!   all, with the engine's own.
//!
//! # Invariants
//!
//! - No input panics or traps the module: every length and pointer is
//!   checked, the reply buffer grows with `try_reserve`. An allocation
//!   failure inside the engine itself still aborts (a trap: Fluent Bit drops
//!   that record and logs the exception).
//! - A record passed through is the record received, byte for byte; the
//!   alerts in a reply are the engine's alert documents, byte for byte.
//! - No SIMD: Fluent Bit's bundled WAMR runs with SIMD off, so this crate
//!   refuses to build with `simd128` enabled, and the end-to-end test checks
//!   the built module holds no `v128` instruction or type.
//! - The module imports nothing: `wasm32-unknown-unknown` needs no WASI, and
//!   Fluent Bit's `accessible_paths` give it nothing it uses.

#[cfg(target_feature = "simd128")]
compile_error!(
    "rule-fluentbit must not be built with simd128: Fluent Bit's bundled WAMR runs with SIMD off \
     and refuses the module (remove `+simd128` from RUSTFLAGS / target features)"
);

use std::fmt::Write as _;

use rule_core::{Alert, Engine, ErrorKind};

/// The rules built in: see `build.rs`.
mod pack {
    include!(concat!(env!("OUT_DIR"), "/pack.rs"));
}

#[cfg(target_arch = "wasm32")]
mod exports;
mod msgpack;

pub use msgpack::{MsgpackReply, MAX_ALERTS_PER_REPLY, MAX_STRING_BYTES};

/// Which filter Fluent Bit's `function_name` picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `pass_through`: every record comes out, with `alerts` added when it
    /// completed sequences.
    PassThrough,
    /// `alerts_only`: only `{"alerts":[...]}` comes out; other records are
    /// dropped.
    AlertsOnly,
}

/// The record of one call, as the export found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// The record's bytes, NUL terminator excluded.
    Bytes(&'a [u8]),
    /// `record_ptr` was 0: Fluent Bit could not copy a record of `len` bytes
    /// into the module.
    Null { len: u32 },
    /// `(ptr, len)` lies outside the module's `memory_bytes` of memory.
    OutOfBounds {
        ptr: u32,
        len: u32,
        memory_bytes: u64,
    },
}

/// What the filter did, apart from the engine's own counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Calls, one per record (lost records included).
    pub records: u64,
    /// Records the engine took.
    pub taken: u64,
    /// Records the engine refused (by kind in the engine's `errors`).
    pub refused: u64,
    /// Records nested deeper than [`MAX_RECORD_DEPTH`], refused before the
    /// engine saw them.
    pub too_deep: u64,
    /// Calls with `record_ptr = 0`.
    pub null_records: u64,
    /// Calls whose record lay outside memory.
    pub bad_pointers: u64,
    /// Alerts put in replies.
    pub alerts: u64,
    /// Replies that could not be allocated (answered with a static marker;
    /// their alerts go out with the next reply).
    pub out_of_memory: u64,
    /// Alerts too long for a MessagePack reply (`alerts_only_msgpack`):
    /// replaced by an `alert_too_large` marker.
    pub alerts_too_large: u64,
}

impl Counters {
    /// Records the engine refused or never saw, the `total` of
    /// `rule_refused`.
    pub fn not_seen(&self) -> u64 {
        self.refused + self.too_deep + self.null_records + self.bad_pointers
    }
}

/// The deepest nesting of objects and arrays Fluent Bit 5.1.1 carries
/// through a filter and its output, the record's own object included
/// (measured: one level more, and the record is lost together with the
/// records after it in its chunk, with nothing in Fluent Bit's log).
pub const FLUENT_BIT_MAX_DEPTH: usize = 63;

/// The deepest record the filter takes. An alert puts each event it holds
/// four levels down (the reply object, `alerts`, the alert, `Events`), so a
/// deeper record would make an alert Fluent Bit loses, and with it the
/// records after it: such records are refused and counted (`too_deep`)
/// instead, and pass on unchanged in `pass_through`.
pub const MAX_RECORD_DEPTH: usize = FLUENT_BIT_MAX_DEPTH - 4;

/// Whether JSON text nests objects and arrays deeper than `limit` levels. A
/// byte scan (brackets outside strings), not a parse: it runs before the
/// engine's decoder, which recurses once per level, ever sees the record.
///
/// A record holding no more than `limit` opening brackets in all (strings
/// included) cannot nest deeper, and nearly every record is such a one:
/// counting them eight bytes at a time answers without the byte scan, which
/// in WAMR's interpreter cost about as much as the engine's whole work on
/// the record (60 µs of 146 per 2.5 KB record, BENCHMARKS.md).
pub fn nests_deeper_than(json: &[u8], limit: usize) -> bool {
    if opening_brackets(json) <= limit {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// How many bytes of `json` are `{` or `[`, wherever they stand. Eight
/// bytes a step in `u64` arithmetic (the module is built without SIMD):
/// `b | 0x20 == b'{'` holds for exactly those two, and the zero bytes of a
/// word are flagged exactly, without the borrows of the quicker test.
fn opening_brackets(json: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = LO * 0x7F;
    let mut words = json.chunks_exact(8);
    let mut count = 0;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let x = (u64::from_le_bytes(word) | (LO * 0x20)) ^ (LO * u64::from(b'{'));
        // Bit 7 of each byte of `x` that is zero, and no other bit.
        let zero = !(((x & LOW7) + LOW7) | x | LOW7);
        count += zero.count_ones() as usize;
    }
    count
        + words
            .remainder()
            .iter()
            .filter(|&&b| b | 0x20 == b'{')
            .count()
}

/// The longest `last` message a reply carries; longer ones are cut.
pub const MAX_MESSAGE_BYTES: usize = 256;

/// A reply buffer larger than this is given back once a smaller reply fits.
const KEEP_REPLY_BYTES: usize = 4 << 20;

/// The answer when even the reply could not be allocated: static, so that
/// it needs no memory.
const OUT_OF_MEMORY_REPLY: &[u8] =
    b"{\"rule_error\":\"out_of_memory\",\"message\":\"the module could not allocate its reply\"}\0";

/// The filter behind the exports: the engine, the reply buffer and the
/// counters. One per module instance.
pub struct Filter {
    engine: Engine,
    reply: Vec<u8>,
    stats: Vec<u8>,
    counters: Counters,
    last_error: String,
    /// Alerts not yet delivered: their reply could not be allocated, or
    /// they came due on a record `pass_through` must pass unchanged. The
    /// next reply that can carry alerts carries them first.
    carry: Vec<Alert>,
    /// Tests only: the next reply fails as if memory were exhausted.
    #[cfg(test)]
    fail_next_reply: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter::new()
    }
}

/// Fluent Bit's record time in epoch milliseconds: `time_sec` is the low 32
/// bits of the seconds, read unsigned (good until 2106).
pub fn record_time_ms(time_sec: u32, time_nsec: u32) -> i64 {
    i64::from(time_sec) * 1000 + i64::from(time_nsec / 1_000_000)
}

/// The record without the NUL terminator(s) a host may have counted in.
pub fn strip_nul(mut record: &[u8]) -> &[u8] {
    while let [rest @ .., 0] = record {
        record = rest;
    }
    record
}

impl Filter {
    /// A filter with the pack built in (`RULE_PACK` at build time, see
    /// `build.rs`), or the embedded rule; default limits.
    pub fn new() -> Filter {
        if pack::PACK.is_empty() {
            return Filter::with_engine(Engine::with_embedded_rule());
        }
        let entries = pack::PACK
            .iter()
            .enumerate()
            .map(|(index, text)| {
                rule_core::Rule::from_toml(text).map_err(|error| rule_core::RefusedRule {
                    index,
                    id: String::new(),
                    name: format!("pack[{index}]"),
                    error,
                })
            })
            .collect();
        let (engine, _) = Engine::with_pack(entries, rule_core::Limits::default());
        Filter::with_engine(engine)
    }

    /// A filter around an engine built by the caller.
    pub fn with_engine(engine: Engine) -> Filter {
        Filter {
            engine,
            reply: Vec::new(),
            stats: Vec::new(),
            counters: Counters::default(),
            last_error: String::new(),
            carry: Vec::new(),
            #[cfg(test)]
            fail_next_reply: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Starts a call, in either format: counts the record and empties the
    /// reply buffer (dropping it when one reply grew it far past the usual).
    fn begin_call(&mut self) {
        self.counters.records += 1;
        if self.reply.capacity() > KEEP_REPLY_BYTES {
            self.reply = Vec::new();
        }
        self.reply.clear();
    }

    /// A record Fluent Bit could not hand over: counted and noted as the
    /// last error; the kind names it in the reply's marker. `None` for a
    /// record that arrived.
    fn count_lost(&mut self, record: Record<'_>) -> Option<&'static str> {
        match record {
            Record::Bytes(_) => None,
            Record::Null { len } => {
                self.counters.null_records += 1;
                self.set_last(format_args!(
                    "Fluent Bit passed record_ptr 0 for a record of {len} bytes: it could not \
                     copy it into the module"
                ));
                Some("null_record")
            }
            Record::OutOfBounds {
                ptr,
                len,
                memory_bytes,
            } => {
                self.counters.bad_pointers += 1;
                self.set_last(format_args!(
                    "the record ({ptr}, {len}) is not inside linear memory ({memory_bytes} bytes)"
                ));
                Some("bad_pointer")
            }
        }
    }

    /// One record through the filter. The answer is the reply with its NUL
    /// terminator: `[0]` alone is `""`, the record dropped. It stays valid
    /// until the next call.
    pub fn call(&mut self, mode: Mode, time_sec: u32, time_nsec: u32, record: Record<'_>) -> &[u8] {
        self.begin_call();
        let built = match record {
            Record::Bytes(bytes) => {
                let bytes = strip_nul(bytes);
                self.one(mode, record_time_ms(time_sec, time_nsec), bytes)
            }
            lost => match self.count_lost(lost) {
                Some(kind) => self.lost(kind),
                None => Ok(()),
            },
        };
        match built {
            Ok(()) => {
                self.reply.push(0);
                &self.reply
            }
            Err(OutOfMemory) => {
                self.counters.out_of_memory += 1;
                self.reply = Vec::new();
                OUT_OF_MEMORY_REPLY
            }
        }
    }

    /// A record the engine can see: push it, then answer by mode.
    fn one(&mut self, mode: Mode, fallback_ms: i64, bytes: &[u8]) -> Result<(), OutOfMemory> {
        let taken = if nests_deeper_than(bytes, MAX_RECORD_DEPTH) {
            self.counters.too_deep += 1;
            self.set_last(format_args!(
                "the record nests deeper than {MAX_RECORD_DEPTH} levels: an alert holding it \
                 would pass the {FLUENT_BIT_MAX_DEPTH} levels Fluent Bit carries"
            ));
            false
        } else {
            match self.engine.push_with_fallback_time(bytes, fallback_ms) {
                Ok(_) => {
                    self.counters.taken += 1;
                    true
                }
                Err(e) => {
                    self.counters.refused += 1;
                    self.set_last(format_args!("{e}"));
                    false
                }
            }
        };
        // Alerts held over first: they are older.
        let mut alerts = core::mem::take(&mut self.carry);
        alerts.extend(self.engine.drain());
        // `pass_through` adds alerts only to a record the engine took: any
        // other record goes on unchanged (it may not even be an object),
        // and the alerts wait for the next one.
        let attach = !alerts.is_empty() && (taken || mode == Mode::AlertsOnly);
        let built = match (mode, attach) {
            (Mode::PassThrough, false) => self.put(bytes),
            (Mode::PassThrough, true) => self.annotate(bytes, &alerts),
            (Mode::AlertsOnly, false) => Ok(()),
            (Mode::AlertsOnly, true) => self.alerts_object(&alerts),
        };
        self.settle(attach && built.is_ok(), alerts);
        built
    }

    /// Counts alerts that went out, or holds them for the next reply.
    fn settle(&mut self, delivered: bool, alerts: Vec<Alert>) {
        if delivered {
            self.counters.alerts += alerts.len() as u64;
        } else {
            self.carry = alerts;
        }
    }

    /// `{"alerts":[...]}` (and `rule_refused`).
    fn alerts_object(&mut self, alerts: &[Alert]) -> Result<(), OutOfMemory> {
        self.reserve(alerts_len(alerts) + 64)?;
        self.put(b"{")?;
        self.alerts_member(alerts)?;
        self.refused_member()?;
        self.put(b"}")
    }

    /// The record with `"alerts":[...]` (and `rule_refused`) added as its
    /// last members. The engine took the record, so it is a JSON object:
    /// the insertion goes before its closing brace.
    fn annotate(&mut self, record: &[u8], alerts: &[Alert]) -> Result<(), OutOfMemory> {
        self.reserve(record.len() + alerts_len(alerts) + 64)?;
        let text = record.trim_ascii_end();
        let Some((&b'}', body)) = text.split_last() else {
            // Not reachable for a record the engine took; never lose the
            // alerts all the same.
            return self.alerts_object(alerts);
        };
        self.put(body)?;
        let empty = body.trim_ascii_end().last() == Some(&b'{');
        if !empty {
            self.put(b",")?;
        }
        self.alerts_member(alerts)?;
        self.refused_member()?;
        self.put(b"}")?;
        // White space that followed the closing brace.
        self.put(&record[text.len()..])
    }

    /// `"alerts":[a1,a2,...]`.
    fn alerts_member(&mut self, alerts: &[Alert]) -> Result<(), OutOfMemory> {
        self.put(b"\"alerts\":[")?;
        for (i, alert) in alerts.iter().enumerate() {
            if i > 0 {
                self.put(b",")?;
            }
            self.put(alert.as_str().as_bytes())?;
        }
        self.put(b"]")
    }

    /// `,"rule_refused":{...}` once anything was refused or lost.
    fn refused_member(&mut self) -> Result<(), OutOfMemory> {
        if self.counters.not_seen() == 0
            && self.counters.out_of_memory == 0
            && self.counters.alerts_too_large == 0
        {
            return Ok(());
        }
        let summary = self.refused_summary();
        self.put(b",\"rule_refused\":")?;
        self.put(summary.as_bytes())
    }

    /// `{"total":N,"<kind>":n,...,"last":"..."}`: nonzero counts only.
    /// `total` counts the records the engine refused or never saw;
    /// `out_of_memory`, when present, counts replies that could not be
    /// allocated (their records were seen, their alerts held over).
    pub fn refused_summary(&self) -> String {
        let errors = self.engine.stats().errors;
        let mut out = String::with_capacity(128 + self.last_error.len());
        let _ = write!(out, "{{\"total\":{}", self.counters.not_seen());
        for kind in ErrorKind::ALL {
            let n = errors.get(kind);
            if n > 0 {
                let _ = write!(out, ",\"{}\":{n}", kind.name());
            }
        }
        for (name, n) in [
            ("too_deep", self.counters.too_deep),
            ("null_record", self.counters.null_records),
            ("bad_pointer", self.counters.bad_pointers),
            ("out_of_memory", self.counters.out_of_memory),
            ("alert_too_large", self.counters.alerts_too_large),
        ] {
            if n > 0 {
                let _ = write!(out, ",\"{name}\":{n}");
            }
        }
        if !self.last_error.is_empty() {
            out.push_str(",\"last\":");
            out.push_str(&json_string(&self.last_error));
        }
        out.push('}');
        out
    }

    /// The error marker for a record the engine never saw (with any alerts
    /// held over).
    fn lost(&mut self, kind: &str) -> Result<(), OutOfMemory> {
        let alerts = core::mem::take(&mut self.carry);
        let built = self.marker(kind, &alerts);
        self.settle(!alerts.is_empty() && built.is_ok(), alerts);
        built
    }

    fn marker(&mut self, kind: &str, alerts: &[Alert]) -> Result<(), OutOfMemory> {
        let message = json_string(&self.last_error);
        self.reserve(message.len() + alerts_len(alerts) + 256)?;
        self.put(b"{\"rule_error\":\"")?;
        self.put(kind.as_bytes())?;
        self.put(b"\",\"message\":")?;
        self.put(message.as_bytes())?;
        if !alerts.is_empty() {
            self.put(b",")?;
            self.alerts_member(alerts)?;
        }
        self.refused_member()?;
        self.put(b"}")
    }

    /// Counters as one NUL-terminated JSON object:
    /// `{"filter":{...},"engine":{...}}` (the engine's `Stats`).
    pub fn stats_json(&mut self) -> &[u8] {
        let c = &self.counters;
        let mut out = String::with_capacity(512);
        let _ = write!(
            out,
            "{{\"filter\":{{\"records\":{},\"taken\":{},\"refused\":{},\"too_deep\":{},\
             \"null_records\":{},\"bad_pointers\":{},\"alerts\":{},\"out_of_memory\":{},\
             \"alerts_too_large\":{},\"last_error\":{}}},\
             \"engine\":{}}}",
            c.records,
            c.taken,
            c.refused,
            c.too_deep,
            c.null_records,
            c.bad_pointers,
            c.alerts,
            c.out_of_memory,
            c.alerts_too_large,
            json_string(&self.last_error),
            self.engine.stats().to_json()
        );
        self.stats.clear();
        self.stats.extend_from_slice(out.as_bytes());
        self.stats.push(0);
        &self.stats
    }

    fn set_last(&mut self, message: core::fmt::Arguments<'_>) {
        self.last_error.clear();
        let _ = self.last_error.write_fmt(message);
        if self.last_error.len() > MAX_MESSAGE_BYTES {
            let mut cut = MAX_MESSAGE_BYTES;
            while !self.last_error.is_char_boundary(cut) {
                cut -= 1;
            }
            self.last_error.truncate(cut);
            self.last_error.push('…');
        }
    }

    fn reserve(&mut self, additional: usize) -> Result<(), OutOfMemory> {
        #[cfg(test)]
        if core::mem::take(&mut self.fail_next_reply) {
            return Err(OutOfMemory);
        }
        // One more for the NUL terminator.
        self.reply
            .try_reserve(additional.saturating_add(1))
            .map_err(|_| OutOfMemory)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), OutOfMemory> {
        self.reply
            .try_reserve(bytes.len().saturating_add(1))
            .map_err(|_| OutOfMemory)?;
        self.reply.extend_from_slice(bytes);
        Ok(())
    }
}

/// The reply could not be allocated.
#[derive(Debug)]
struct OutOfMemory;

fn alerts_len(alerts: &[Alert]) -> usize {
    alerts.iter().map(|a| a.as_str().len() + 1).sum()
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests;
