//! Seeded, deterministic generator of Elastic-Defend-shaped Linux events, as NDJSON.
//!
//! The events feed the tests and benchmarks of the EQL rule *Network Connection
//! Followed by File Creation* (`sequence by host.id, process.entity_id with
//! maxspan=5s [network where connection_attempted from a writable path to a
//! public IP] [file where creation by a writable-path process, with exclusions]`).
//! They follow the shape of Elastic's own samples: nested objects (no dotted
//! keys), `event.category` / `event.type` as arrays, `host`, `agent`, `ecs`,
//! `elastic.agent.id`, `data_stream`, `process` with `parent`,
//! `Ext.ancestry` and the leader entity ids, `user` / `group`, and per kind
//! `source` / `destination` / `network`, `dns`, or `file`.
//!
//! Two [`Profile`]s:
//!
//! * [`Profile::Realistic`] is a benchmark mix: mostly system-path processes,
//!   about 3% of events from writable paths, about 0.2% of events starting a
//!   true-positive pair (measured: 0.21% alerts per event over 400k events),
//!   near misses, IPv4 and IPv6, some IPv4-mapped IPv6 (`::ffff:a.b.c.d`),
//!   `::1`, missing destination addresses, occasional mixed-case paths; every
//!   event is 1 to 3 KB (about 2.0 to 3.0 KB, 2.6 KB on average).
//! * [`Profile::ReferenceDomain`] is the domain on which Elasticsearch and the
//!   Python `eql` 1.0.1 engine agree, for differential tests, and is dense in
//!   the rule's corner cases (see the variant's documentation): about 80% of
//!   events come from writable paths and about 9% of events complete a
//!   sequence.
//!
//! "Alerts" here means sequences under Elasticsearch's semantics (see
//! `SEMANTICS.md` of the project): case-sensitive `like`/`==`/`in`,
//! case-insensitive `:`, IPv4-mapped addresses normalised, `@timestamp`
//! truncated to milliseconds, maxspan inclusive, most recent stage-1 event
//! kept, a completed sequence consumes its stage-1 event, ties in arrival
//! order. Release builds generate several hundred thousand events per second.
//!
//! # Example
//!
//! ```
//! use defend_gen::{generate, write_ndjson, GenConfig, Profile};
//!
//! let config = GenConfig { events: 100, seed: 42, profile: Profile::Realistic };
//! let lines: Vec<String> = generate(&config).collect();
//! assert_eq!(lines.len(), 100);
//! assert!(lines[0].starts_with("{\"@timestamp\":\""));
//!
//! // The same seed always gives the same bytes.
//! let mut out = Vec::new();
//! let written = write_ndjson(&config, &mut out).unwrap();
//! assert_eq!(written as usize, out.len());
//! assert_eq!(String::from_utf8(out).unwrap(), lines.join("\n") + "\n");
//! ```
//!
//! # Invariants
//!
//! For every profile and seed:
//!
//! * The output depends only on `(seed, profile)`; `events` only says where to
//!   stop, so a shorter run is a prefix of a longer one.
//! * Each item is one JSON object without a newline; `write_ndjson` adds `'\n'`.
//! * `@timestamp` is RFC 3339 UTC with 7 fractional digits
//!   (`2026-11-22T07:33:01.1234567Z`) and never decreases in output order;
//!   equal timestamps occur. `event.created` equals `@timestamp`.
//! * `event.id` is unique within a run; `event.sequence` increases per host.
//! * `process.entity_id` is unique per process (base64 of
//!   `agent.id-pid-filetime`, like Defend's), except for the deliberate
//!   "same entity id on another host" case of `ReferenceDomain`.
//! * Background processes can't complete the sequence by accident: every
//!   sequence the rule finds comes from a scenario built to produce it (a true
//!   positive), and every built near miss is meant not to match.
//! * `host.os.type` is always `"linux"`.
//!
//! `ReferenceDomain` adds the invariants listed on [`Profile::ReferenceDomain`].

mod ip;
mod render;
mod scenario;
mod util;
mod world;

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use util::{days_from_civil, Rng, TICKS_PER_MS, TICKS_PER_SEC};
use world::{Host, Proc, User};

/// Which mix of events to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Realistic mix for benchmarks: mostly process/file/network events from
    /// system paths (`/usr/bin`, `/usr/sbin`, `/opt`...), a small share (~3%)
    /// from writable paths (`/tmp`, `/dev/shm`, `/var/tmp`, `/run/user/1000`,
    /// `/var/log`, `/boot`, `/var/run/user`), rare true positives (~0.2% of
    /// events start a true-positive pair), near misses, private and public IPv4
    /// and IPv6 destinations, some IPv4-mapped IPv6 (`::ffff:a.b.c.d`),
    /// mixed-case paths occasionally, events 1 to 3 KB.
    Realistic,
    /// The input domain where Elasticsearch and the Python `eql` 1.0.1 engine
    /// agree, for a differential test:
    ///
    /// * every string the rule compares (`process.executable`, `process.name`,
    ///   `file.name`, `file.extension`, `file.path`, `destination.ip`,
    ///   `event.action`, `event.type`, `event.category`, `host.os.type`) is
    ///   lowercase, so case-sensitive and case-insensitive comparison agree. The
    ///   one exception is spelled exactly as the rule spells it: paths under
    ///   `/dev/shm/.org.chromium.Chromium.` (and their file names);
    /// * every field the rule reads under a `not` is present in network and
    ///   file events (`file.name`, `file.extension`, `file.path`,
    ///   `process.name`, `process.executable`, `destination.ip`); every file
    ///   name has an extension;
    /// * no IPv4-mapped IPv6 address and never the bare `::1` destination;
    /// * the join keys `host.id` and `process.entity_id` are non-null scalar
    ///   strings, and no two distinct keys are equal ignoring case;
    /// * timestamps are whole milliseconds (the last 4 of the 7 fractional
    ///   digits are 0), so millisecond truncation changes nothing;
    /// * arrays stay arrays (`event.category: ["network"]`,
    ///   `event.type: ["start"]`), always with exactly one element (DNS events
    ///   get `["info"]` instead of Defend's `["protocol", "info"]`), so a
    ///   consumer can unwrap them;
    /// * every sequence the rule finds is found identically under both
    ///   engines' semantics (the crate's tests check this against an
    ///   independent implementation of each).
    ///
    /// Dense in interesting cases: many events from writable paths, pairs at
    /// 0 ms (same millisecond), 1 ms, random, 4.999 s, exactly 5.000 s (match)
    /// and 5.001 s / 5.002 s (no match), several network events before one file
    /// event, two file events after one network event, an excluded file before a
    /// good one, repeated beacons, excluded file names / extensions / paths,
    /// excluded process names and executables and their near-lookalikes,
    /// executables just outside the writable patterns, private vs public IPv4
    /// including every excluded block and its neighbours, IPv6 public,
    /// link-local, multicast and ULA, `0.0.0.0`, wrong actions, wrong order,
    /// a child process creating the file, and the same entity id on another
    /// host.
    ReferenceDomain,
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of events (lines).
    pub events: usize,
    /// Seed of the PRNG; equal seeds give equal output.
    pub seed: u64,
    /// The mix of events.
    pub profile: Profile,
}

/// An iterator of events, each one JSON object on one line (no trailing newline).
pub fn generate(config: &GenConfig) -> Generator {
    Generator::new(config)
}

/// Writes `events` lines, each followed by `'\n'`. Returns bytes written.
pub fn write_ndjson<W: std::io::Write>(config: &GenConfig, out: &mut W) -> std::io::Result<u64> {
    const CHUNK: usize = 1 << 16;
    let mut gen = generate(config);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let mut line = String::with_capacity(4096);
    let mut total = 0u64;
    while gen.next_into(&mut line) {
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            total += buf.len() as u64;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        out.write_all(&buf)?;
        total += buf.len() as u64;
    }
    Ok(total)
}

/// What one scheduled event is about.
pub(crate) enum Spec {
    Proc(ProcAction),
    Net {
        action: NetAction,
        /// `None`: no `destination.ip` at all.
        remote: Option<String>,
        remote_port: u16,
        local_port: u16,
    },
    Dns {
        question: &'static str,
        answer: String,
    },
    File {
        action: FileAction,
        path: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcAction {
    Fork,
    Exec,
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NetAction {
    Attempted,
    Accepted,
    Disconnect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileAction {
    Creation,
    Modification,
    Deletion,
    Rename,
}

/// An event waiting in the time-ordered queue.
pub(crate) struct Pending {
    ts: u64,
    order: u64,
    host: u32,
    proc: Arc<Proc>,
    spec: Spec,
    /// Built to complete a rule sequence (counted when emitted, for tests).
    completes: bool,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.ts == other.ts && self.order == other.order
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so that `BinaryHeap` pops the earliest `(ts, order)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.ts, other.order).cmp(&(self.ts, self.order))
    }
}

/// The event iterator returned by [`generate`].
pub struct Generator {
    remaining: usize,
    profile: Profile,
    rng: Rng,
    /// Current time in 100 ns ticks since the Unix epoch.
    clock: u64,
    hosts: Vec<Host>,
    users: Vec<User>,
    heap: BinaryHeap<Pending>,
    order: u64,
    /// Indices into `world::COMMANDS` usable in this profile.
    commands: Vec<usize>,
    len_hint: usize,
    /// Emitted events built to complete a sequence (true-positive alerts).
    designed_alerts: u64,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("remaining", &self.remaining)
            .field("profile", &self.profile)
            .field("hosts", &self.hosts.len())
            .field("queued", &self.heap.len())
            .finish()
    }
}

impl Generator {
    fn new(config: &GenConfig) -> Generator {
        let profile_salt = match config.profile {
            Profile::Realistic => 0x5245_414C,
            Profile::ReferenceDomain => 0x5245_4644,
        };
        let mut rng = Rng::new(config.seed ^ (profile_salt << 32));
        let rd = config.profile == Profile::ReferenceDomain;

        // 2026-11-22T07:33:01Z plus up to 30 days, depending on the seed.
        let base_secs = days_from_civil(2026, 11, 22) as u64 * 86_400 + 7 * 3600 + 33 * 60 + 1;
        let mut clock = (base_secs + rng.below(30 * 86_400)) * TICKS_PER_SEC;
        if rd {
            clock -= clock % TICKS_PER_MS;
        } else {
            clock += rng.below(TICKS_PER_SEC);
        }

        let lower = |s: &str| !s.bytes().any(|b| b.is_ascii_uppercase());
        let usable = |e: &world::Exe| !rd || (lower(e.path) && e.dirs.iter().all(|d| lower(d)));
        let daemons: Vec<usize> = (0..world::DAEMONS.len())
            .filter(|&i| usable(&world::DAEMONS[i]))
            .collect();
        let commands: Vec<usize> = (0..world::COMMANDS.len())
            .filter(|&i| usable(&world::COMMANDS[i]))
            .collect();

        let n_hosts = if rd {
            rng.range(50, 100)
        } else {
            rng.range(50, 500)
        } as usize;
        let hosts = (0..n_hosts)
            .map(|i| Host::new(i, &mut rng, clock, &daemons))
            .collect();

        Generator {
            remaining: config.events,
            profile: config.profile,
            rng,
            clock,
            hosts,
            users: world::build_users(),
            heap: BinaryHeap::new(),
            order: 0,
            commands,
            len_hint: 2048,
            designed_alerts: 0,
        }
    }

    /// Renders the next event into `out` (cleared first). False when done.
    fn next_into(&mut self, out: &mut String) -> bool {
        if self.remaining == 0 {
            return false;
        }
        loop {
            if self.heap.peek().is_some_and(|top| top.ts <= self.clock) {
                if let Some(p) = self.heap.pop() {
                    out.clear();
                    self.render(p, out);
                    self.remaining -= 1;
                    return true;
                }
            }
            self.advance_clock();
            self.spawn();
        }
    }

    fn advance_clock(&mut self) {
        let step = match self.profile {
            Profile::Realistic => match self.rng.below(100) {
                0..=11 => 0,
                12..=81 => self.rng.range(1, 5_000),
                _ => self.rng.range(5_000, 40_000),
            },
            Profile::ReferenceDomain => match self.rng.below(100) {
                0..=24 => 0,
                25..=89 => self.rng.range(1, 150) * TICKS_PER_MS,
                _ => self.rng.range(150, 600) * TICKS_PER_MS,
            },
        };
        self.clock += step;
    }

    pub(crate) fn push(
        &mut self,
        ts: u64,
        host: usize,
        proc: &Arc<Proc>,
        spec: Spec,
        completes: bool,
    ) {
        debug_assert!(ts >= self.clock);
        self.order += 1;
        self.heap.push(Pending {
            ts,
            order: self.order,
            host: host as u32,
            proc: Arc::clone(proc),
            spec,
            completes,
        });
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let mut s = String::with_capacity(self.len_hint);
        if self.next_into(&mut s) {
            self.len_hint = self.len_hint.max(s.len() + 64);
            Some(s)
        } else {
            None
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Generator {}

#[cfg(test)]
mod tests;
