//! What happens at each tick: background activity and rule scenarios.
//!
//! Every process that could satisfy the rule's stage 1 (a writable-path
//! executable doing `connection_attempted` to a public address) belongs either
//! to one scenario, which schedules all of its events and knows which of them
//! complete a sequence, or to a background role that never creates files.
//! Background processes that create files from writable paths never contact
//! public addresses. So the sequences the rule can find are exactly the ones
//! the scenarios build (`Pending::completes`), which the tests check against an
//! independent implementation of the rule.
//!
//! `names.rs` holds the executables, paths and names, by how the rule
//! treats them; `background.rs` the background roles; `cases.rs` the
//! scenarios, true positives and near misses. This file picks what happens
//! at each tick and holds the building blocks they share.

mod background;
mod cases;
mod names;

use std::sync::Arc;

use crate::ip;
use crate::render::extension;
use crate::util::{push_u64, Rng, LOWER_ALNUM, TICKS_PER_MS};
use crate::world::{Exe, Proc, ProcSpec, Role, COMMANDS, DAEMONS, ROOT, SHELLS, SYSTEMD, UID1000};
use crate::{FileAction, Generator, NetAction, ProcAction, Profile, Spec};

use names::*;

/// What to start: executable, arguments, user, role and (for system
/// processes) the index of its behaviour entry.
#[derive(Clone, Copy)]
struct Launch<'a> {
    exe: &'a str,
    args: &'a str,
    user: usize,
    role: Role,
    kind: usize,
}

impl<'a> Launch<'a> {
    fn new(exe: &'a str, args: &'a str, user: usize, role: Role) -> Self {
        Launch {
            exe,
            args,
            user,
            role,
            kind: usize::MAX,
        }
    }
}

/// Whether `b` is within the rule's maxspan of `a`, after Elasticsearch's
/// truncation of `@timestamp` to milliseconds (inclusive, S4/S5).
fn within(a: u64, b: u64) -> bool {
    b / TICKS_PER_MS - a / TICKS_PER_MS <= 5_000
}

fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    }
}

/// `n` random lowercase characters that never start with "tmp".
fn rand_name(rng: &mut Rng, out: &mut String, n: usize) {
    let start = out.len();
    loop {
        out.truncate(start);
        rng.push_chars(out, LOWER_ALNUM, n);
        if !out[start..].starts_with("tmp") && !out[start..].starts_with('t') {
            break;
        }
    }
}

fn exe_of(kind: usize) -> &'static Exe {
    match kind {
        k if k < DAEMONS.len() => &DAEMONS[k],
        k if (10_000..10_000 + SHELLS.len()).contains(&k) => &SHELLS[k - 10_000],
        k if (20_000..20_000 + COMMANDS.len()).contains(&k) => &COMMANDS[k - 20_000],
        _ => &SYSTEMD,
    }
}

impl Generator {
    fn rd(&self) -> bool {
        self.profile == Profile::ReferenceDomain
    }

    /// A random offset in ticks between `lo_ms` and `hi_ms` (whole ms in
    /// ReferenceDomain).
    fn off(&mut self, lo_ms: u64, hi_ms: u64) -> u64 {
        if self.rd() {
            self.rng.range(lo_ms, hi_ms) * TICKS_PER_MS
        } else {
            self.rng.range(lo_ms * TICKS_PER_MS, hi_ms * TICKS_PER_MS)
        }
    }

    fn pick_host(&mut self) -> usize {
        let n = self.hosts.len() as u64;
        // A fifth of the hosts are busier.
        if self.rng.chance(1, 3) {
            self.rng.below(n / 5 + 1) as usize
        } else {
            self.rng.below(n) as usize
        }
    }

    /// One tick's worth of new activity, starting at `self.clock`.
    pub(crate) fn spawn(&mut self) {
        let h = self.pick_host();
        match self.profile {
            Profile::Realistic => {
                // Weights per 100 000 spawns.
                let w = [
                    97_660, // background, system paths
                    1_500,  // background, writable paths
                    190,    // true-positive pair
                    24,     // beacon
                    110,    // late file
                    110,    // private destination
                    90,     // excluded file
                    70,     // excluded process
                    80,     // executable outside the patterns
                    25,     // child creates the file
                    25,     // file before network
                    50,     // other actions
                    0,      // same entity id on another host
                    60,     // mixed case outside the patterns
                ];
                let which = self.rng.weighted(&w);
                self.dispatch(which, h);
            }
            Profile::ReferenceDomain => {
                let w = [
                    300, // background, system paths
                    150, // background, writable paths
                    140, // true-positive pair
                    30,  // beacon
                    60,  // late file
                    60,  // private destination
                    60,  // excluded file
                    50,  // excluded process
                    40,  // executable outside the patterns
                    25,  // child creates the file
                    25,  // file before network
                    30,  // other actions
                    20,  // same entity id on another host
                    0,   // mixed case (never in ReferenceDomain)
                ];
                let which = self.rng.weighted(&w);
                self.dispatch(which, h);
            }
        }
    }

    fn dispatch(&mut self, which: usize, h: usize) {
        match which {
            0 => self.bg_system(h),
            1 => self.bg_writable(h),
            2 => self.tp_pair(h),
            3 => self.beacon(h),
            4 => self.nm_late(h),
            5 => self.nm_private(h),
            6 => self.nm_excluded_file(h),
            7 => self.nm_excluded_proc(h),
            8 => self.nm_outside(h, false),
            9 => self.nm_child(h),
            10 => self.nm_wrong_order(h),
            11 => self.nm_other_actions(h),
            12 => self.nm_other_host(h),
            _ => self.nm_outside(h, true),
        }
    }

    // ----- building blocks -------------------------------------------------

    /// Creates a process (a new process group in `parent`'s session) on host `h`.
    fn new_proc(
        &mut self,
        h: usize,
        what: Launch<'_>,
        parent: &Arc<Proc>,
        start: u64,
    ) -> Arc<Proc> {
        let spec = ProcSpec {
            executable: what.exe,
            args: what.args,
            user: what.user,
            role: what.role,
            kind: what.kind,
            new_group: true,
            new_session: false,
        };
        self.hosts[h].new_proc(&mut self.rng, &spec, Some(parent), start)
    }

    /// A shell or daemon that starts processes.
    fn some_parent(&mut self, h: usize) -> Arc<Proc> {
        let host = &self.hosts[h];
        if !host.shells.is_empty() && self.rng.chance(3, 5) {
            let i = self.rng.below(host.shells.len() as u64) as usize;
            Arc::clone(&host.shells[i])
        } else {
            let i = self.rng.below(host.pool.len() as u64) as usize;
            Arc::clone(&host.pool[i])
        }
    }

    /// Pushes the fork (sometimes) and exec events of a new process.
    fn started(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        if self.rng.chance(1, 4) {
            self.push(ts, h, p, Spec::Proc(ProcAction::Fork), false);
        }
        self.push(ts, h, p, Spec::Proc(ProcAction::Exec), false);
    }

    fn ended(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        self.push(ts, h, p, Spec::Proc(ProcAction::End), false);
    }

    fn eph_port(&mut self) -> u16 {
        self.rng.range(32_768, 60_999) as u16
    }

    fn attempt(&mut self, ts: u64, h: usize, p: &Arc<Proc>, remote: Option<String>) {
        let remote_port = *self.rng.pick(C2_PORTS);
        let local_port = self.eph_port();
        self.push(
            ts,
            h,
            p,
            Spec::Net {
                action: NetAction::Attempted,
                remote,
                remote_port,
                local_port,
            },
            false,
        );
    }

    fn file(
        &mut self,
        ts: u64,
        h: usize,
        p: &Arc<Proc>,
        action: FileAction,
        path: String,
        completes: bool,
    ) {
        debug_assert!(
            !self.rd() || extension(crate::world::basename(&path)).is_some(),
            "{path}"
        );
        self.push(ts, h, p, Spec::File { action, path }, completes);
    }

    /// A destination the rule treats as public (stage 1 can match).
    fn public_dest(&mut self) -> String {
        match self.rng.below(20) {
            0..=13 => ip::public_v4(&mut self.rng),
            14..=17 => ip::public_v6(&mut self.rng),
            _ if self.rd() => ip::public_v6(&mut self.rng),
            // IPv4-mapped public address: Elasticsearch sees the IPv4 address.
            _ => format!("::ffff:{}", ip::public_v4_plain(&mut self.rng)),
        }
    }

    /// A destination the rule excludes (stage 1 can't match); `None` is a
    /// missing `destination.ip` (Realistic only).
    fn private_dest(&mut self) -> Option<String> {
        if self.rd() {
            return Some(match self.rng.below(10) {
                0..=5 => ip::private_v4(&mut self.rng),
                6 => "0.0.0.0".to_string(),
                _ => ip::private_v6(&mut self.rng),
            });
        }
        Some(match self.rng.below(20) {
            0..=11 => ip::private_v4(&mut self.rng),
            12 => "0.0.0.0".to_string(),
            13 | 14 => ip::private_v6(&mut self.rng),
            15 => "::1".to_string(),
            16 => "::ffff:0.0.0.0".to_string(),
            17 => return None,
            _ => format!("::ffff:{}", ip::private_v4(&mut self.rng)),
        })
    }

    /// An executable under the writable patterns.
    fn implant_exe(&mut self) -> String {
        let mut s = String::with_capacity(40);
        if !self.rd() && self.rng.chance(1, 10) {
            s.push_str(self.rng.pick_str(WRITABLE_DIRS_MIXED));
        } else {
            s.push_str(self.rng.pick_str(WRITABLE_DIRS));
        }
        if self.rng.chance(1, 5) {
            rand_name(&mut self.rng, &mut s, 6);
        } else {
            s.push_str(self.rng.pick_str(IMPLANT_NAMES));
        }
        s
    }

    fn implant_user(&mut self, exe: &str) -> usize {
        if exe.contains("/user/1000/") {
            UID1000
        } else if exe.contains("/user/0/") || exe.starts_with("/boot/") || self.rng.chance(2, 5) {
            ROOT
        } else {
            UID1000
        }
    }

    /// Starts a scenario process from `exe` at `ts`.
    fn scenario_proc(&mut self, h: usize, exe: &str, ts: u64) -> Arc<Proc> {
        let parent = self.some_parent(h);
        let args = *self.rng.pick(IMPLANT_ARGS);
        let user = self.implant_user(exe);
        let p = self.new_proc(h, Launch::new(exe, args, user, Role::Scenario), &parent, ts);
        self.started(ts, h, &p);
        p
    }

    /// A path an implant writes that no exclusion matches.
    fn drop_path(&mut self, exe: &str) -> String {
        let rd = self.rd();
        let r = self.rng.below(100);
        if r < 6 {
            return (*self.rng.pick(DROP_PATH_LOOKALIKES)).to_string();
        }
        if !rd && r < 9 {
            return (*self.rng.pick(DROP_PATH_LOOKALIKES_MIXED)).to_string();
        }
        let mut s = String::with_capacity(48);
        let dir = dir_of(exe);
        if self.rng.chance(1, 2) && dir.len() > 1 {
            s.push_str(dir);
        } else {
            s.push_str(self.rng.pick_str(DROP_DIRS));
        }
        match self.rng.below(100) {
            0..=14 => s.push_str(self.rng.pick_str(DROP_LOOKALIKES)),
            15..=19 if !rd => s.push_str(self.rng.pick_str(DROP_LOOKALIKES_MIXED)),
            20..=27 if !rd => s.push_str(self.rng.pick_str(DROP_NAMES_NO_EXT)),
            28..=44 => {
                rand_name(&mut self.rng, &mut s, 7);
                s.push('.');
                s.push_str(self.rng.pick_str(DEFAULT_EXTS));
            }
            _ => s.push_str(self.rng.pick_str(DROP_NAMES)),
        }
        s
    }

    /// A path the rule's stage-2 file exclusions match.
    fn excluded_path(&mut self, exe: &str) -> String {
        let rd = self.rd();
        let mut s = String::with_capacity(48);
        let dir = dir_of(exe);
        match self.rng.below(12) {
            // file.name like "tmp*"
            0..=2 => {
                s.push_str(if dir.len() > 1 { dir } else { "/tmp/" });
                s.push_str("tmp");
                self.rng.push_chars(&mut s, LOWER_ALNUM, 6);
                if rd || self.rng.chance(1, 2) {
                    s.push('.');
                    s.push_str(self.rng.pick_str(DEFAULT_EXTS));
                }
            }
            // file.extension in (...)
            3..=5 => {
                s.push_str(if dir.len() > 1 { dir } else { "/var/tmp/" });
                rand_name(&mut self.rng, &mut s, 6);
                s.push('.');
                s.push_str(self.rng.pick_str(EXCLUDED_EXTS));
            }
            // file.path like (...)
            6 => {
                s.push_str("/loki/wal/");
                push_u64(&mut s, self.rng.range(10_000_000, 99_999_999));
                if rd {
                    s.push_str(".wal");
                }
            }
            7 => {
                s.push_str("/dev/shm/.org.chromium.Chromium.");
                rand_name(&mut self.rng, &mut s, 6);
            }
            8 => {
                let p = *self.rng.pick(&[
                    "/opt/rapid7/nexpose/nsc/logs/nsc.log",
                    "/usr/local/ltechagent/lterrors.txt",
                    "/usr/local/ltechagent.conf",
                    "/var/cache/yum/x86_64/9/baseos/repomd.xml",
                    "/var/cache/yum/x86_64/9/updates/packages/curl-8.5.0-1.el9.x86_64.rpm",
                ]);
                s.push_str(p);
            }
            9 => {
                s.push_str("/run/aws-node/ipam.json.tmp");
                push_u64(&mut s, self.rng.range(100_000, 999_999));
            }
            10 => {
                s.push_str("/run/systemd/journal/streams/.");
                if rd {
                    s.push_str("8:");
                    push_u64(&mut s, self.rng.range(10_000, 99_999));
                    s.push_str(".stream");
                } else {
                    s.push_str("#8:");
                    push_u64(&mut s, self.rng.range(10_000, 99_999));
                    rand_name(&mut self.rng, &mut s, 4);
                }
            }
            _ => {
                if rd {
                    s.push_str("/opt/rapid7/nexpose/shared/scan.xml");
                } else {
                    s.push_str("/var/lib/cloudendure/agent_keystore_temp");
                }
            }
        }
        s
    }

    /// A gap (ticks) after which the file still matches.
    fn match_gap(&mut self) -> u64 {
        if self.rd() {
            let ms = match self.rng.below(100) {
                0..=9 => 0,
                10..=17 => 1,
                18..=25 => 4_999,
                26..=39 => 5_000,
                _ => self.rng.range(2, 4_998),
            };
            ms * TICKS_PER_MS
        } else {
            match self.rng.below(100) {
                0 => 0,
                1 | 2 => 5_000 * TICKS_PER_MS,
                _ => self.rng.range(0, 4_990 * TICKS_PER_MS),
            }
        }
    }

    /// A gap (ticks) after which the file is too late.
    fn late_gap(&mut self) -> u64 {
        if self.rd() {
            let ms = match self.rng.below(100) {
                0..=34 => 5_001,
                35..=49 => 5_002,
                _ => self.rng.range(5_003, 12_000),
            };
            ms * TICKS_PER_MS
        } else if self.rng.chance(1, 10) {
            // Sub-millisecond over 5 s: whether it matches depends on truncation.
            5_000 * TICKS_PER_MS + self.rng.range(1, TICKS_PER_MS - 1)
        } else {
            self.rng.range(5_002 * TICKS_PER_MS, 15_000 * TICKS_PER_MS)
        }
    }
}
