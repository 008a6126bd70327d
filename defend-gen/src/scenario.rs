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

use std::sync::Arc;

use crate::ip;
use crate::render::extension;
use crate::util::{push_u64, Rng, LOWER_ALNUM, TICKS_PER_MS};
use crate::world::{
    Exe, Proc, ProcSpec, Role, COMMANDS, DAEMONS, DEPLOY, ROOT, SHELLS, SYSTEMD, UID1000,
};
use crate::{FileAction, Generator, NetAction, ProcAction, Profile, Spec};

/// Directories under the rule's writable patterns (all lowercase).
const WRITABLE_DIRS: &[&str] = &[
    "/tmp/",
    "/tmp/.x/",
    "/tmp/.cache/",
    "/tmp/.font-unix/",
    "/dev/shm/",
    "/dev/shm/.s/",
    "/var/tmp/",
    "/var/tmp/.update/",
    "/run/user/1000/",
    "/run/user/0/",
    "/var/run/user/1000/",
    "/var/log/",
    "/var/log/.journal/",
    "/boot/",
    "/boot/.efi/",
];
/// Real-world writable directories with capitals (Realistic only).
const WRITABLE_DIRS_MIXED: &[&str] = &[
    "/tmp/.X11-unix/",
    "/tmp/.ICE-unix/",
    "/tmp/.mount_AppImgX3/",
];

const IMPLANT_NAMES: &[&str] = &[
    "agent",
    "poseidon",
    "athena",
    "beacon",
    "kworkerd",
    "sshd",
    "update",
    "dbus-daemon",
    "systemd-helper",
    "x",
    "a.out",
    "python3",
    "node",
    "main",
    "installer",
    "setup",
    "runner",
    "svc",
    "job",
    "apache2",
    "kthreadd",
    "crond",
    "ld-helper",
    ".hidden",
];
const IMPLANT_ARGS: &[&str] = &[
    "",
    "",
    "-d",
    "--daemon",
    "-c config.json",
    "--interval 5",
    "-s https://cdn-update.net/api",
];

/// Benign programs that run from writable paths (background noise).
const BENIGN_WRITABLE: &[&str] = &[
    "/tmp/go-build2736415027/b001/exe/main",
    "/tmp/.mount_obsidiwx3k/obsidian",
    "/tmp/_mei41230/app",
    "/var/tmp/installer/setup",
    "/dev/shm/runner/bin/task",
    "/tmp/vagrant-shell",
    "/run/user/1000/gvfsd-helper",
    "/var/tmp/ansible-tmp-1763800000/ansiballz",
    "/tmp/bazel-out/k8-fastbuild/bin/server",
    "/var/log/.agent/collector",
    "/boot/grub/install-helper",
    "/var/run/user/1000/snap-helper",
    "/tmp/cargo-install3xk/release/tool",
];
const BENIGN_WRITABLE_MIXED: &[&str] = &[
    "/tmp/.mount_ObsidiWx3k/obsidian",
    "/tmp/_MEI41230/app",
    "/tmp/.mount_Cursor8sK2/cursor",
];

/// Stage-2 process exclusions of the rule (all reachable from writable paths).
const EXCLUDED_PROCS: &[&str] = &[
    "/tmp/podman",
    "/var/tmp/minikube",
    "/tmp/jdk-17/bin/java",
    "/dev/shm/aws-k8s-agent",
    "/run/user/1000/grafana",
    "/tmp/postman/postman",
    "/var/log/logrotate",
    "/tmp/token_handler",
    "/tmp/.sentry-cli.exe",
    "/tmp/.sentry-cli-2.31.0.exe",
    "/tmp/.sentry-cli/bin/run.exe",
];
/// `process.executable :` is case-insensitive, so these are excluded too.
const EXCLUDED_PROCS_MIXED: &[&str] = &["/tmp/Token_Handler", "/tmp/.Sentry-CLI-x64.exe"];
/// Near-lookalikes of the exclusions: not excluded, so they alert.
const LOOKALIKE_PROCS: &[&str] = &[
    "/tmp/javaw",
    "/tmp/podman-remote",
    "/var/tmp/grafana-server",
    "/tmp/token_handler2",
    "/tmp/sentry-cli.exe",
    "/tmp/.sentry-cli.exe.bak",
    "/dev/shm/minikube-linux-amd64",
    "/tmp/postman2",
    "/var/tmp/aws-k8s-agent.sh",
    "/var/tmp/token_handler",
];
/// Case differs from the `in` list (case-sensitive in Elasticsearch): they alert.
const LOOKALIKE_PROCS_MIXED: &[&str] = &["/tmp/Java", "/tmp/PODMAN", "/run/user/1000/Grafana"];

/// Executables just outside the writable patterns.
const NEAR_MISS_EXES: &[&str] = &[
    "/tmpx/agent",
    "/usr/tmp/agent",
    "/home/ubuntu/tmp/agent",
    "/var/run/usr/1000/agent",
    "/run/users/1000/agent",
    "/var/logs/agent",
    "/dev/shmem/agent",
    "/bootstrap/agent",
    "/opt/tmp/agent",
    "/var/tmpfs/agent",
    "/run/user1000/agent",
    "tmp/agent",
    "./tmp/agent",
    "//tmp/agent",
    "/dev/shm",
    "/var/run/user",
    "/srv/tmp/agent",
    "/snap/bin/agent",
    "/usr/local/bin/agent",
];
const NEAR_MISS_EXES_MIXED: &[&str] = &[
    "/TMP/agent",
    "/Tmp/.x/agent",
    "/dev/SHM/agent",
    "/var/TMP/agent",
    "/Run/user/1000/agent",
    "/BOOT/agent",
    "/TMP/token_handler",
];

/// Files an implant drops (every name has an extension).
const DROP_NAMES: &[&str] = &[
    "task.sh",
    "payload.bin",
    "out.txt",
    "cmd.py",
    "loader.so",
    "config.json",
    "update.tar.gz",
    "stage2.elf",
    "result.log",
    "job.dat",
    "beacon.cfg",
    "implant.bin",
    "run.sh",
    "id_rsa.pub",
    "cron.sh",
    "libc.so.6",
    "kit.tar",
    "data.enc",
];
/// Names without an extension (`file.extension` absent): Realistic only.
const DROP_NAMES_NO_EXT: &[&str] = &[
    "authorized_keys",
    "crontab",
    "kdevtmpfsi",
    "sshd",
    ".bashrc",
];
/// Lookalikes of the file exclusions that are not excluded.
const DROP_LOOKALIKES: &[&str] = &[
    "xtmp.log",
    "a.tmp2",
    "b.journal",
    "c.db-journal2",
    "d.lock",
    "temp.sh",
    "tm.sh",
    "t.mp",
    "notmp.txt",
    "sqlite-journal.txt",
    "x.lockfiles",
    "x.tmpx",
    "journal.db",
];
/// Case differs from the case-sensitive exclusions: not excluded in Elasticsearch.
const DROP_LOOKALIKES_MIXED: &[&str] = &[
    "TMP_task.sh",
    "Tmp1234",
    "cache.TMP",
    "x.Lockfile",
    "j.DB-JOURNAL",
];
/// Paths near the excluded paths, not excluded.
const DROP_PATH_LOOKALIKES: &[&str] = &[
    "/loki/wal2/000012.seg",
    "/opt/rapid7/nexpose2/nsc.log",
    "/usr/local/ltech/agent.json",
    "/var/cache/yum.d/repomd.xml",
    "/run/aws-node/ipam.json",
    "/run/systemd/journal/streams/8:1234.stream",
    "/var/lib/cloudendure/agent_keystore_temp.bak",
    "/tmp/terraform-provider-aws_v5.31.0_x5",
];
const DROP_PATH_LOOKALIKES_MIXED: &[&str] = &[
    "/dev/shm/.org.chromium.chromium.q7ZpX1",
    "/Loki/wal/000013",
    "/var/cache/YUM/repomd.xml",
];
const DROP_DIRS: &[&str] = &[
    "/tmp/",
    "/dev/shm/",
    "/var/tmp/",
    "/tmp/.x/",
    "/etc/cron.d/",
    "/home/ubuntu/.config/autostart/",
    "/etc/systemd/system/",
    "/usr/local/bin/",
    "/root/.ssh/",
];
const DEFAULT_EXTS: &[&str] = &["txt", "sh", "bin", "log", "py", "json"];
const EXCLUDED_EXTS: &[&str] = &["sqlite-journal", "db-journal", "lockfile", "tmp"];

const DNS_NAMES: &[&str] = &[
    "api.github.com",
    "packages.ubuntu.com",
    "s3.amazonaws.com",
    "registry-1.docker.io",
    "artifacts.elastic.co",
    "time.google.com",
    "pypi.org",
    "files.pythonhosted.org",
    "ocsp.digicert.com",
    "cdn.jsdelivr.net",
    "sts.amazonaws.com",
    "cdn-update.net",
];
const C2_PORTS: &[u16] = &[443, 443, 443, 80, 8443, 8080, 4444, 7443, 53, 8888, 9001];
const LOG_NAMES: &[&str] = &[
    "access", "error", "app", "syslog", "auth", "kern", "daemon", "audit",
];

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

    // ----- background ------------------------------------------------------

    fn system_file_name(&mut self, out: &mut String) {
        let rd = self.rd();
        match self.rng.below(12) {
            0 => {
                out.push_str(self.rng.pick_str(LOG_NAMES));
                out.push_str(".log");
            }
            1 => {
                out.push_str(self.rng.pick_str(LOG_NAMES));
                out.push_str(".log.");
                push_u64(out, self.rng.range(1, 9));
            }
            2 => {
                self.rng.hex(out, 16);
                out.push_str(".json");
            }
            3 => {
                rand_name(&mut self.rng, out, 8);
                out.push_str(".tmp");
            }
            4 => out.push_str("state.json"),
            5 => self.rng.hex(out, 40),
            6 => {
                rand_name(&mut self.rng, out, 6);
                out.push_str(".pid");
            }
            7 => {
                out.push_str(self.rng.pick_str(&["index", "cache", "places", "history"]));
                out.push_str(
                    self.rng
                        .pick_str(&[".sqlite-journal", ".db-journal", ".lock"]),
                );
            }
            8 => {
                out.push_str("tmp");
                rand_name(&mut self.rng, out, 6);
            }
            9 => {
                rand_name(&mut self.rng, out, 8);
                out.push_str(".gz");
            }
            10 => {
                out.push('0');
                push_u64(out, self.rng.range(10_000, 99_999));
                out.push_str(self.rng.pick_str(&[".sst", ".ldb", ""]));
            }
            _ => {
                if rd {
                    out.push_str(self.rng.pick_str(&["readme.md", "notes.txt", "report.csv"]));
                } else {
                    out.push_str(self.rng.pick_str(&[
                        "Report-2026-11.PDF",
                        "Makefile",
                        "README.md",
                        "IMG_2041.JPG",
                        "Dockerfile",
                    ]));
                }
            }
        }
        if rd && extension(out.rsplit('/').next().unwrap_or("")).is_none() {
            out.push_str(".dat");
        }
    }

    fn file_action(&mut self) -> FileAction {
        match self.rng.below(100) {
            0..=44 => FileAction::Creation,
            45..=79 => FileAction::Modification,
            80..=91 => FileAction::Deletion,
            _ => FileAction::Rename,
        }
    }

    fn pick_pool(&mut self, h: usize, want: impl Fn(&Exe) -> bool) -> Arc<Proc> {
        let host = &self.hosts[h];
        for _ in 0..6 {
            let i = self.rng.below(host.pool.len() as u64) as usize;
            if want(exe_of(host.pool[i].kind)) {
                return Arc::clone(&host.pool[i]);
            }
        }
        if !host.shells.is_empty() && self.rng.chance(1, 2) {
            let i = self.rng.below(host.shells.len() as u64) as usize;
            return Arc::clone(&host.shells[i]);
        }
        Arc::clone(&host.pool[self.rng.below(host.pool.len() as u64) as usize])
    }

    fn sys_file_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let exe = exe_of(p.kind);
        let mut path = String::with_capacity(80);
        if exe.dirs.is_empty() {
            path.push_str("/var/tmp");
        } else {
            path.push_str(self.rng.pick_str(exe.dirs));
        }
        path.push('/');
        self.system_file_name(&mut path);
        let action = self.file_action();
        self.file(ts, h, p, action, path, false);
    }

    fn sys_net_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let exe = exe_of(p.kind);
        let port = if exe.ports.is_empty() {
            443
        } else {
            *self.rng.pick(exe.ports)
        };
        let server = exe.net == 2 || (exe.net == 3 && self.rng.chance(1, 2));
        if server {
            // An inbound connection always has a peer address.
            let remote = if self.rng.chance(7, 10) {
                self.private_dest()
                    .or_else(|| Some(ip::private_v4(&mut self.rng)))
            } else {
                Some(self.public_dest())
            };
            let remote_port = self.eph_port();
            self.push(
                ts,
                h,
                p,
                Spec::Net {
                    action: NetAction::Accepted,
                    remote,
                    remote_port,
                    local_port: port,
                },
                false,
            );
        } else {
            let remote = if self.rng.chance(11, 20) {
                Some(self.public_dest())
            } else {
                self.private_dest()
            };
            let local_port = self.eph_port();
            let spec = |action| Spec::Net {
                action,
                remote: remote.clone(),
                remote_port: port,
                local_port,
            };
            self.push(ts, h, p, spec(NetAction::Attempted), false);
            if self.rng.chance(1, 2) {
                let t = ts + self.off(20, 8_000);
                self.push(t, h, p, spec(NetAction::Disconnect), false);
            }
        }
    }

    fn dns_event(&mut self, ts: u64, h: usize, p: &Arc<Proc>) {
        let question = *self.rng.pick(DNS_NAMES);
        let answer = ip::public_v4_plain(&mut self.rng);
        self.push(ts, h, p, Spec::Dns { question, answer }, false);
    }

    fn bg_system(&mut self, h: usize) {
        let t = self.clock;
        match self.rng.weighted(&[14, 46, 30, 10]) {
            0 => {
                // A command starts, maybe does something, ends or stays.
                let parent = self.some_parent(h);
                let k = *self.rng.pick(&self.commands);
                let cmd = &COMMANDS[k];
                let user = if parent.user == ROOT {
                    cmd.user
                } else {
                    parent.user
                };
                let user = if user == crate::world::POSTGRES {
                    DEPLOY
                } else {
                    user
                };
                let what = Launch {
                    kind: 20_000 + k,
                    ..Launch::new(cmd.path, cmd.args, user, Role::System)
                };
                let p = self.new_proc(h, what, &parent, t);
                self.started(t, h, &p);
                let mut tt = t;
                for _ in 0..self.rng.below(3) {
                    tt += self.off(1, 900);
                    if cmd.net & 1 == 1 && self.rng.chance(1, 2) {
                        self.sys_net_event(tt, h, &p);
                    } else if !cmd.dirs.is_empty() {
                        self.sys_file_event(tt, h, &p);
                    }
                }
                let pool_len = self.hosts[h].pool.len();
                if self.rng.chance(1, 4) && pool_len > 2 {
                    let slot = 1 + self.rng.below(pool_len as u64 - 1) as usize;
                    let old = std::mem::replace(&mut self.hosts[h].pool[slot], p);
                    self.ended(tt, h, &old);
                } else {
                    let te = tt + self.off(1, 2_000);
                    self.ended(te, h, &p);
                }
            }
            1 => {
                let p = self.pick_pool(h, |e| !e.dirs.is_empty());
                self.sys_file_event(t, h, &p);
            }
            2 => {
                let p = self.pick_pool(h, |e| e.net != 0);
                self.sys_net_event(t, h, &p);
            }
            _ => {
                let p = self.pick_pool(h, |e| e.net & 1 == 1);
                self.dns_event(t, h, &p);
            }
        }
    }

    fn benign_writable_exe(&mut self) -> String {
        let r = self.rng.below(100);
        if !self.rd() && r < 8 {
            (*self.rng.pick(BENIGN_WRITABLE_MIXED)).to_string()
        } else if r < 60 {
            (*self.rng.pick(BENIGN_WRITABLE)).to_string()
        } else {
            self.implant_exe()
        }
    }

    fn bg_writable(&mut self, h: usize) {
        let t = self.clock;
        let n = self.hosts[h].writable.len();
        if n == 0 || (n < 3 && self.rng.chance(1, 15)) {
            let exe = self.benign_writable_exe();
            let role = if self.rng.chance(1, 2) {
                Role::WritableNet
            } else {
                Role::WritableFile
            };
            let parent = self.some_parent(h);
            let user = self.implant_user(&exe);
            let p = self.new_proc(h, Launch::new(&exe, "", user, role), &parent, t);
            self.started(t, h, &p);
            self.hosts[h].writable.push(p);
            return;
        }
        let i = self.rng.below(n as u64) as usize;
        let p = Arc::clone(&self.hosts[h].writable[i]);
        if self.rng.chance(1, 60) {
            self.hosts[h].writable.swap_remove(i);
            self.ended(t, h, &p);
            return;
        }
        match p.role {
            Role::WritableNet => match self.rng.weighted(&[50, 15, 15, 20]) {
                0 => {
                    let remote = if self.rng.chance(1, 2) {
                        Some(self.public_dest())
                    } else {
                        self.private_dest()
                    };
                    self.attempt(t, h, &p, remote);
                }
                1 | 2 => {
                    let action = if self.rng.chance(1, 2) {
                        NetAction::Accepted
                    } else {
                        NetAction::Disconnect
                    };
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    let local_port = *self.rng.pick(&[8080u16, 3000, 9229, 8000]);
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action,
                            remote,
                            remote_port,
                            local_port,
                        },
                        false,
                    );
                }
                _ => self.dns_event(t, h, &p),
            },
            _ => match self.rng.weighted(&[80, 12, 8]) {
                0 => {
                    let mut path = String::with_capacity(64);
                    if self.rng.chance(1, 2) {
                        path.push_str(dir_of(&p.executable));
                    } else {
                        path.push_str(self.rng.pick_str(&[
                            "/tmp/",
                            "/var/tmp/",
                            "/dev/shm/",
                            "/home/ubuntu/.cache/",
                        ]));
                    }
                    self.system_file_name(&mut path);
                    let action = self.file_action();
                    self.file(t, h, &p, action, path, false);
                }
                1 => {
                    let remote = self.private_dest();
                    self.attempt(t, h, &p, remote);
                }
                _ => {
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action: NetAction::Accepted,
                            remote,
                            remote_port,
                            local_port: 8080,
                        },
                        false,
                    );
                }
            },
        }
    }

    // ----- true positives --------------------------------------------------

    fn tp_exe(&mut self) -> String {
        let r = self.rng.below(100);
        if r < 10 {
            (*self.rng.pick(LOOKALIKE_PROCS)).to_string()
        } else if !self.rd() && r < 13 {
            (*self.rng.pick(LOOKALIKE_PROCS_MIXED)).to_string()
        } else if r < 16 {
            "/tmp/terraform".to_string()
        } else {
            self.implant_exe()
        }
    }

    /// A writable-path process reaches a public address, then creates a file
    /// within 5 s: one alert. Variants: several network events first (some to
    /// excluded addresses, which don't replace the pending one), a second file
    /// right after (consumed: no second alert).
    fn tp_pair(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.tp_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let mut t = t0 + self.off(1, 1_500);
        let k = if self.rd() {
            *self.rng.pick(&[1u64, 1, 2, 2, 3, 4])
        } else {
            *self.rng.pick(&[1u64, 1, 1, 1, 1, 2, 2, 3])
        };
        let mut last_public = t;
        for i in 0..k {
            if i > 0 {
                t += self.off(0, 2_500);
            }
            if i > 0 && self.rng.chance(1, 4) {
                let remote = self.private_dest();
                self.attempt(t, h, &p, remote);
            } else {
                let remote = Some(self.public_dest());
                self.attempt(t, h, &p, remote);
                last_public = t;
            }
        }
        let gap = self.match_gap();
        let tf = (last_public + gap).max(t);
        let path = if exe == "/tmp/terraform" {
            "/tmp/terraform.tfstate".to_string()
        } else {
            self.drop_path(&exe)
        };
        let completes = within(last_public, tf);
        self.file(tf, h, &p, FileAction::Creation, path, completes);
        let mut tend = tf;
        if self.rng.chance(1, 4) {
            // A second file: the sequence was consumed, so no second alert.
            let tf2 = tf + self.off(0, 800);
            let path2 = self.drop_path(&exe);
            self.file(tf2, h, &p, FileAction::Creation, path2, false);
            tend = tf2;
        }
        if self.rng.chance(1, 2) {
            let te = tend + self.off(1, 3_000);
            self.ended(te, h, &p);
        }
    }

    /// An implant polling its server: rounds of network then file.
    fn beacon(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let rounds = self.rng.range(2, 5);
        let mut t = t0 + self.off(1, 1_000);
        let remote = self.public_dest();
        for _ in 0..rounds {
            self.attempt(t, h, &p, Some(remote.clone()));
            let tf = t + self.match_gap();
            let path = self.drop_path(&exe);
            let completes = within(t, tf);
            self.file(tf, h, &p, FileAction::Creation, path, completes);
            t = tf + self.off(2_000, 20_000);
        }
    }

    // ----- near misses -----------------------------------------------------

    /// The file comes too late (over 5 s after the network event).
    fn nm_late(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.late_gap();
        let path = self.drop_path(&exe);
        let completes = within(t, tf);
        self.file(tf, h, &p, FileAction::Creation, path, completes);
    }

    /// Only excluded destinations.
    fn nm_private(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let mut t = t0 + self.off(1, 1_000);
        for _ in 0..self.rng.range(1, 3) {
            let remote = self.private_dest();
            self.attempt(t, h, &p, remote);
            t += self.off(0, 1_500);
        }
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
    }

    /// The file is excluded; sometimes a good file follows and still matches
    /// (a failed stage-2 event doesn't touch the pending sequence).
    fn nm_excluded_file(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        let path = self.excluded_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
        if self.rng.chance(1, 3) {
            let tf2 = tf + self.off(0, 3_000);
            let path2 = self.drop_path(&exe);
            let completes = within(t, tf2);
            self.file(tf2, h, &p, FileAction::Creation, path2, completes);
        }
    }

    /// The process is excluded (by name or executable). `/tmp/terraform` is
    /// excluded only for `/tmp/terraform-provider*` files.
    fn nm_excluded_proc(&mut self, h: usize) {
        let t0 = self.clock;
        let terraform = self.rng.chance(1, 5);
        let exe = if terraform {
            "/tmp/terraform".to_string()
        } else if !self.rd() && self.rng.chance(1, 5) {
            (*self.rng.pick(EXCLUDED_PROCS_MIXED)).to_string()
        } else {
            (*self.rng.pick(EXCLUDED_PROCS)).to_string()
        };
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        if terraform {
            let mut path = String::from("/tmp/terraform-provider-");
            path.push_str(self.rng.pick_str(&[
                "aws_v5.31.0_x5",
                "random_v3.6.0_x5",
                "null_v3.2.2_x5",
            ]));
            self.file(tf, h, &p, FileAction::Creation, path, false);
            if self.rng.chance(1, 3) {
                let tf2 = tf + self.off(0, 2_000);
                let completes = within(t, tf2);
                let path2 = "/tmp/.terraform.lock.hcl".to_string();
                self.file(tf2, h, &p, FileAction::Creation, path2, completes);
            }
        } else {
            let path = self.drop_path(&exe);
            self.file(tf, h, &p, FileAction::Creation, path, false);
        }
    }

    /// The executable is just outside the writable patterns (or, in
    /// Realistic with `mixed`, differs from them by case).
    fn nm_outside(&mut self, h: usize, mixed: bool) {
        let t0 = self.clock;
        let exe = if mixed {
            *self.rng.pick(NEAR_MISS_EXES_MIXED)
        } else {
            *self.rng.pick(NEAR_MISS_EXES)
        };
        let p = self.scenario_proc(h, exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tf = t + self.match_gap();
        let path = self.drop_path("/tmp/x");
        self.file(tf, h, &p, FileAction::Creation, path, false);
    }

    /// A child process (another entity id) creates the file.
    fn nm_child(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let tc = t + self.off(0, 1_000);
        let child_exe = self.implant_exe();
        let user = p.user;
        let c = self.new_proc(h, Launch::new(&child_exe, "", user, Role::Scenario), &p, tc);
        self.started(tc, h, &c);
        let tf = tc + self.off(0, 2_000);
        let path = self.drop_path(&child_exe);
        self.file(tf, h, &c, FileAction::Creation, path, false);
    }

    /// The file comes before the network event, and nothing after it.
    fn nm_wrong_order(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let tf = t0 + self.off(1, 1_000);
        let path = self.drop_path(&exe);
        self.file(tf, h, &p, FileAction::Creation, path, false);
        let t = tf + self.off(0, 3_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
    }

    /// Right process and timing, wrong actions: an accepted connection, a
    /// disconnect or a DNS lookup instead of `connection_attempted`, or a
    /// modification / deletion / rename instead of `creation`.
    fn nm_other_actions(&mut self, h: usize) {
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        if self.rng.chance(1, 2) {
            match self.rng.below(3) {
                0 | 1 => {
                    let action = if self.rng.chance(1, 2) {
                        NetAction::Accepted
                    } else {
                        NetAction::Disconnect
                    };
                    let remote = Some(self.public_dest());
                    let remote_port = self.eph_port();
                    self.push(
                        t,
                        h,
                        &p,
                        Spec::Net {
                            action,
                            remote,
                            remote_port,
                            local_port: 443,
                        },
                        false,
                    );
                }
                _ => self.dns_event(t, h, &p),
            }
            self.file(tf, h, &p, FileAction::Creation, path, false);
        } else {
            let remote = Some(self.public_dest());
            self.attempt(t, h, &p, remote);
            let action = *self.rng.pick(&[
                FileAction::Modification,
                FileAction::Deletion,
                FileAction::Rename,
            ]);
            self.file(tf, h, &p, action, path, false);
        }
    }

    /// The same entity id on two hosts: the join key is the pair, so no match.
    fn nm_other_host(&mut self, h: usize) {
        let n = self.hosts.len();
        if n < 2 {
            return self.nm_late(h);
        }
        let t0 = self.clock;
        let exe = self.implant_exe();
        let p = self.scenario_proc(h, &exe, t0);
        let t = t0 + self.off(1, 1_000);
        let remote = Some(self.public_dest());
        self.attempt(t, h, &p, remote);
        let other = (h + 1 + self.rng.below(n as u64 - 1) as usize) % n;
        let q = self.hosts[other].clone_foreign(&p);
        let tf = t + self.match_gap();
        let path = self.drop_path(&exe);
        self.file(tf, other, &q, FileAction::Creation, path, false);
    }
}
