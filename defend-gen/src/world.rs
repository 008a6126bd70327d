//! Hosts, users and processes, with their JSON fragments rendered once.
//!
//! `exes.rs` is the catalogue of system executables.

mod exes;

use std::sync::Arc;

use crate::util::{
    base64_into, kv_str, kv_u64, push_json_str, push_json_str_array, push_u64, Rng, HEX,
    TICKS_PER_SEC,
};

pub(crate) use exes::{Exe, COMMANDS, DAEMONS, SHELLS, SYSTEMD};

/// Upper bound (bytes) for a process fragment; ancestry entries beyond it are
/// left out, which keeps Realistic events under 3 KB.
const PROC_FRAG_BUDGET: usize = 1_100;

/// Seconds between 1601-01-01 (Windows FILETIME epoch, used inside Defend
/// entity ids) and 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

pub(crate) struct OsInfo {
    variant: &'static str,
    family: &'static str,
    platform: &'static str,
    version: &'static str,
    full: &'static str,
    kernel: &'static str,
}

const OSES: &[OsInfo] = &[
    OsInfo {
        variant: "Ubuntu",
        family: "debian",
        platform: "ubuntu",
        version: "22.04.4",
        full: "Ubuntu 22.04.4",
        kernel: "5.15.0-105-generic #115-Ubuntu SMP Mon Apr 15 2024",
    },
    OsInfo {
        variant: "Ubuntu",
        family: "debian",
        platform: "ubuntu",
        version: "24.04.1",
        full: "Ubuntu 24.04.1",
        kernel: "6.8.0-45-generic #45-Ubuntu SMP Fri Aug 30 2024",
    },
    OsInfo {
        variant: "Debian",
        family: "debian",
        platform: "debian",
        version: "12",
        full: "Debian 12",
        kernel: "6.1.0-25-amd64 #1 SMP Debian 6.1.106-3 (2024-08-26)",
    },
    OsInfo {
        variant: "RHEL",
        family: "rhel",
        platform: "rhel",
        version: "9.4",
        full: "RHEL 9.4",
        kernel: "5.14.0-427.13.1.el9_4.x86_64 #1 SMP Wed Apr 10 2024",
    },
    OsInfo {
        variant: "Amazon Linux",
        family: "amzn",
        platform: "amzn",
        version: "2023",
        full: "Amazon Linux 2023",
        kernel: "6.1.109-118.189.amzn2023.x86_64 #1 SMP Tue Sep 10 2024",
    },
    OsInfo {
        variant: "Rocky Linux",
        family: "rhel",
        platform: "rocky",
        version: "8.10",
        full: "Rocky Linux 8.10",
        kernel: "4.18.0-553.16.1.el8_10.x86_64 #1 SMP Thu Aug 8 2024",
    },
];

const AGENT_VERSIONS: &[&str] = &["8.13.4", "8.14.3", "8.15.2", "8.16.1", "8.17.0"];
const HOST_ROLES: &[&str] = &[
    "web",
    "api",
    "db",
    "worker",
    "k8s-node",
    "build",
    "bastion",
    "cache",
    "etl",
    "ml",
    "gw",
    "search",
    "queue",
    "ci-runner",
    "jump",
];
const HOST_ENVS: &[&str] = &["prod", "stg", "dev", "qa"];

/// A Linux account; `frag` is the pre-rendered `"user":{..},"group":{..}`.
pub(crate) struct User {
    pub(crate) uid: u32,
    pub(crate) frag: String,
}

/// (uid, user, gid, group)
const USERS: &[(u32, &str, u32, &str)] = &[
    (0, "root", 0, "root"),
    (1000, "ubuntu", 1000, "ubuntu"),
    (1001, "deploy", 1001, "deploy"),
    (33, "www-data", 33, "www-data"),
    (113, "postgres", 120, "postgres"),
    (998, "elastic-agent", 998, "elastic-agent"),
];
pub(crate) const ROOT: usize = 0;
pub(crate) const UID1000: usize = 1;
pub(crate) const DEPLOY: usize = 2;
pub(crate) const WWW: usize = 3;
pub(crate) const POSTGRES: usize = 4;

pub(crate) fn build_users() -> Vec<User> {
    USERS
        .iter()
        .map(|&(uid, name, gid, group)| {
            let mut f = String::with_capacity(200);
            f.push_str("\"user\":{\"Ext\":{\"real\":{");
            kv_u64(&mut f, "id", u64::from(uid));
            f.push(',');
            kv_str(&mut f, "name", name);
            f.push_str("}},");
            kv_u64(&mut f, "id", u64::from(uid));
            f.push(',');
            kv_str(&mut f, "name", name);
            f.push_str("},\"group\":{\"Ext\":{\"real\":{");
            kv_u64(&mut f, "id", u64::from(gid));
            f.push(',');
            kv_str(&mut f, "name", group);
            f.push_str("}},");
            kv_u64(&mut f, "id", u64::from(gid));
            f.push(',');
            kv_str(&mut f, "name", group);
            f.push('}');
            User { uid, frag: f }
        })
        .collect()
}

/// What a background (non-scenario) process may do, so that background
/// activity never completes the rule's sequence by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Runs from a system path: can do anything.
    System,
    /// Writable path, only network activity (may reach public IPs), never files.
    WritableNet,
    /// Writable path, writes files, network only to excluded (private) destinations
    /// or non-`connection_attempted` actions.
    WritableFile,
    /// Created by a scenario; only the scenario emits events for it.
    Scenario,
}

pub(crate) struct Proc {
    pub(crate) pid: u32,
    pub(crate) entity_id: String,
    pub(crate) executable: String,
    pub(crate) name: String,
    pub(crate) start: u64,
    pub(crate) user: usize,
    pub(crate) role: Role,
    /// Index into the executable table for system processes (behaviour hints).
    pub(crate) kind: usize,
    pub(crate) hash_seed: u64,
    /// `"process":{...` without the closing brace.
    pub(crate) frag: String,
    ancestry: Vec<String>,
    session_leader: String,
    entry_leader: String,
    entry_leader_parent: String,
}

pub(crate) struct Host {
    pub(crate) agent_id: String,
    /// `"agent":{..},"ecs":{..},"elastic":{..},"host":{..}`
    pub(crate) frag: String,
    pub(crate) ipv4: String,
    pub(crate) ipv6: String,
    pub(crate) ipv6_ll: String,
    pub(crate) event_prefix: String,
    pub(crate) seq: u64,
    next_pid: u32,
    /// Long-lived processes from system paths; slot 0 is systemd.
    pub(crate) pool: Vec<Arc<Proc>>,
    /// Long-lived background processes from writable paths.
    pub(crate) writable: Vec<Arc<Proc>>,
    /// Interactive shells, sshd, cron: typical parents of new processes.
    pub(crate) shells: Vec<Arc<Proc>>,
}

pub(crate) fn uuid(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(36);
    rng.hex(&mut s, 8);
    s.push('-');
    rng.hex(&mut s, 4);
    s.push_str("-4");
    rng.hex(&mut s, 3);
    s.push('-');
    s.push(HEX[8 + rng.below(4) as usize] as char);
    rng.hex(&mut s, 3);
    s.push('-');
    rng.hex(&mut s, 12);
    s
}

/// Per-generator scratch used to create processes.
pub(crate) struct ProcSpec<'a> {
    pub(crate) executable: &'a str,
    pub(crate) args: &'a str,
    pub(crate) user: usize,
    pub(crate) role: Role,
    pub(crate) kind: usize,
    /// Start a new process group (shell job) instead of inheriting it.
    pub(crate) new_group: bool,
    /// Start a new session (login shell).
    pub(crate) new_session: bool,
}

pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Host {
    pub(crate) fn new(idx: usize, rng: &mut Rng, start: u64, daemons: &[usize]) -> Host {
        let os = rng.pick(OSES);
        let arch_aarch64 = rng.chance(1, 6);
        let mut hostname = String::new();
        hostname.push_str(rng.pick_str(HOST_ROLES));
        hostname.push('-');
        push_u64(&mut hostname, rng.range(1, 60));
        hostname.push('-');
        hostname.push_str(rng.pick_str(HOST_ENVS));
        hostname.push('-');
        rng.push_chars(&mut hostname, crate::util::LOWER_ALNUM, 4);
        let mut id = String::with_capacity(32);
        rng.hex(&mut id, 32);
        let agent_id = uuid(rng);
        let agent_version = rng.pick(AGENT_VERSIONS);

        let ipv4 = match rng.below(3) {
            0 => format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.range(2, 254)
            ),
            1 => format!(
                "172.{}.{}.{}",
                rng.range(16, 31),
                rng.below(256),
                rng.range(2, 254)
            ),
            _ => format!("192.168.{}.{}", rng.below(256), rng.range(2, 254)),
        };
        let ipv6 = format!(
            "2600:1f18:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
            rng.below(0x10000),
            rng.range(1, 0xffff),
            rng.range(1, 0xffff),
            rng.below(0x10000),
            rng.below(0x10000),
            rng.range(1, 0xffff)
        );
        let ipv6_ll = format!(
            "fe80::{:x}:{:x}:{:x}:{:x}",
            rng.range(1, 0xffff),
            rng.below(0x10000),
            rng.below(0x10000),
            rng.range(1, 0xffff)
        );
        let mut mac = String::from("02:42");
        for _ in 0..4 {
            mac.push(':');
            rng.hex(&mut mac, 2);
        }

        let mut f = String::with_capacity(900);
        f.push_str("\"agent\":{");
        kv_str(&mut f, "id", &agent_id);
        f.push_str(",\"type\":\"endpoint\",");
        kv_str(&mut f, "version", agent_version);
        f.push_str("},\"ecs\":{\"version\":\"8.11.0\"},\"elastic\":{\"agent\":{");
        kv_str(&mut f, "id", &agent_id);
        f.push_str("}},\"host\":{");
        kv_str(
            &mut f,
            "architecture",
            if arch_aarch64 { "aarch64" } else { "x86_64" },
        );
        f.push(',');
        kv_str(&mut f, "hostname", &hostname);
        f.push(',');
        kv_str(&mut f, "id", &id);
        f.push_str(",\"ip\":");
        push_json_str_array(
            &mut f,
            &[
                ipv4.as_str(),
                ipv6.as_str(),
                ipv6_ll.as_str(),
                "127.0.0.1",
                "::1",
            ],
        );
        f.push_str(",\"mac\":");
        push_json_str_array(&mut f, &[mac.as_str()]);
        f.push(',');
        kv_str(&mut f, "name", &hostname);
        f.push_str(",\"os\":{\"Ext\":{");
        kv_str(&mut f, "variant", os.variant);
        f.push_str("},");
        kv_str(&mut f, "family", os.family);
        f.push(',');
        kv_str(&mut f, "full", os.full);
        f.push(',');
        let kernel = if arch_aarch64 {
            os.kernel.replace("x86_64", "aarch64")
        } else {
            os.kernel.to_string()
        };
        kv_str(&mut f, "kernel", &kernel);
        f.push_str(",\"name\":\"Linux\",");
        kv_str(&mut f, "platform", os.platform);
        f.push_str(",\"type\":\"linux\",");
        kv_str(&mut f, "version", os.version);
        f.push_str("}}");

        // Host index in the first two characters keeps event ids unique across hosts.
        let mut event_prefix = String::with_capacity(12);
        crate::util::base64_digits(&mut event_prefix, idx as u64, 2);
        rng.push_chars(&mut event_prefix, crate::util::MIXED_ALNUM, 10);

        let mut host = Host {
            agent_id,
            frag: f,
            ipv4,
            ipv6,
            ipv6_ll,
            event_prefix,
            seq: rng.range(1_000, 900_000),
            next_pid: rng.range(300, 30_000) as u32,
            pool: Vec::new(),
            writable: Vec::new(),
            shells: Vec::new(),
        };

        // Boot: systemd, then daemons and a few sessions, started before `start`.
        let boot = start.saturating_sub(rng.range(3_600, 40 * 86_400) * TICKS_PER_SEC);
        let systemd = host.new_proc_with_pid(
            rng,
            1,
            &ProcSpec {
                executable: SYSTEMD.path,
                args: SYSTEMD.args,
                user: ROOT,
                role: Role::System,
                kind: usize::MAX,
                new_group: true,
                new_session: true,
            },
            None,
            boot,
        );
        host.pool.push(systemd.clone());
        let n_daemons = rng.range(6, 14) as usize;
        let mut t = boot;
        for _ in 0..n_daemons {
            t += rng.range(1, 30 * TICKS_PER_SEC);
            let k = *rng.pick(daemons);
            let d = &DAEMONS[k];
            let p = host.new_proc(
                rng,
                &ProcSpec {
                    executable: d.path,
                    args: d.args,
                    user: d.user,
                    role: Role::System,
                    kind: k,
                    new_group: true,
                    new_session: true,
                },
                Some(&systemd),
                t,
            );
            host.pool.push(p);
        }
        let sshd = host
            .pool
            .iter()
            .find(|p| p.executable == "/usr/sbin/sshd")
            .cloned()
            .unwrap_or_else(|| systemd.clone());
        for _ in 0..rng.range(1, 3) {
            t += rng.range(1, 3_600 * TICKS_PER_SEC);
            let k = rng.below(SHELLS.len() as u64) as usize;
            let s = &SHELLS[k];
            let p = host.new_proc(
                rng,
                &ProcSpec {
                    executable: s.path,
                    args: s.args,
                    user: s.user,
                    role: Role::System,
                    kind: 10_000 + k,
                    new_group: true,
                    new_session: true,
                },
                Some(&sshd),
                t.min(start),
            );
            host.shells.push(p);
        }
        host
    }

    pub(crate) fn new_proc(
        &mut self,
        rng: &mut Rng,
        spec: &ProcSpec<'_>,
        parent: Option<&Arc<Proc>>,
        start: u64,
    ) -> Arc<Proc> {
        self.next_pid += rng.range(1, 12) as u32;
        if self.next_pid > 4_194_000 {
            self.next_pid = 300 + rng.below(1000) as u32;
        }
        let pid = self.next_pid;
        self.new_proc_with_pid(rng, pid, spec, parent, start)
    }

    pub(crate) fn entity_id(&self, pid: u32, start: u64) -> String {
        let secs = start / TICKS_PER_SEC + FILETIME_UNIX_OFFSET;
        let frac = (start % TICKS_PER_SEC) * 100;
        let raw = format!("{}-{}-{}.{:09}", self.agent_id, pid, secs, frac);
        let mut eid = String::with_capacity(raw.len() * 4 / 3 + 4);
        base64_into(&mut eid, raw.as_bytes());
        eid
    }

    fn new_proc_with_pid(
        &mut self,
        rng: &mut Rng,
        pid: u32,
        spec: &ProcSpec<'_>,
        parent: Option<&Arc<Proc>>,
        start: u64,
    ) -> Arc<Proc> {
        let entity_id = self.entity_id(pid, start);
        let name = basename(spec.executable).to_string();
        let mut ancestry = Vec::new();
        if let Some(p) = parent {
            ancestry.push(p.entity_id.clone());
            ancestry.extend(p.ancestry.iter().take(3).cloned());
        }
        let (session_leader, entry_leader, entry_leader_parent) = match parent {
            None => (entity_id.clone(), entity_id.clone(), entity_id.clone()),
            // Started by init: a service, its own session and entry leader.
            Some(p) if p.pid == 1 => (entity_id.clone(), entity_id.clone(), p.entity_id.clone()),
            Some(p) if spec.new_session => (
                entity_id.clone(),
                p.entry_leader.clone(),
                p.entry_leader_parent.clone(),
            ),
            Some(p) => (
                p.session_leader.clone(),
                p.entry_leader.clone(),
                p.entry_leader_parent.clone(),
            ),
        };
        let group_leader = match parent {
            Some(p) if !spec.new_group => p.entity_id.clone(),
            _ => entity_id.clone(),
        };

        // Everything after `Ext`; the ancestry goes in front once we know how
        // much of it fits the budget.
        let mut f = String::with_capacity(1200);
        f.push_str("\"args\":[");
        push_json_str(&mut f, spec.executable);
        let mut argc = 1;
        for a in spec.args.split(' ').filter(|a| !a.is_empty()) {
            f.push(',');
            push_json_str(&mut f, a);
            argc += 1;
        }
        f.push_str("],");
        kv_u64(&mut f, "args_count", argc);
        f.push(',');
        let mut cmd = String::with_capacity(spec.executable.len() + spec.args.len() + 1);
        cmd.push_str(spec.executable);
        if !spec.args.is_empty() {
            cmd.push(' ');
            cmd.push_str(spec.args);
        }
        kv_str(&mut f, "command_line", &cmd);
        f.push(',');
        kv_str(&mut f, "entity_id", &entity_id);
        f.push_str(",\"entry_leader\":{");
        kv_str(&mut f, "entity_id", &entry_leader);
        f.push_str(",\"parent\":{");
        kv_str(&mut f, "entity_id", &entry_leader_parent);
        f.push_str("}},");
        kv_str(&mut f, "executable", spec.executable);
        f.push_str(",\"group_leader\":{");
        kv_str(&mut f, "entity_id", &group_leader);
        f.push_str("},");
        kv_str(&mut f, "name", &name);
        f.push_str(",\"parent\":{");
        match parent {
            Some(p) => {
                kv_str(&mut f, "entity_id", &p.entity_id);
                f.push(',');
                kv_str(&mut f, "executable", &p.executable);
                f.push(',');
                kv_str(&mut f, "name", &p.name);
                f.push(',');
                kv_u64(&mut f, "pid", u64::from(p.pid));
            }
            None => {
                f.push_str("\"pid\":0");
            }
        }
        f.push_str("},");
        kv_u64(&mut f, "pid", u64::from(pid));
        f.push_str(",\"session_leader\":{");
        kv_str(&mut f, "entity_id", &session_leader);
        f.push('}');
        let head = "\"process\":{\"Ext\":{\"ancestry\":";
        let mut shown = ancestry.len();
        let size = |n: usize| {
            head.len() + 4 + f.len() + ancestry[..n].iter().map(|a| a.len() + 3).sum::<usize>()
        };
        while shown > 1 && size(shown) > PROC_FRAG_BUDGET {
            shown -= 1;
        }
        let mut frag = String::with_capacity(size(shown));
        frag.push_str(head);
        push_json_str_array(&mut frag, &ancestry[..shown]);
        frag.push_str("},");
        frag.push_str(&f);
        let f = frag;

        Arc::new(Proc {
            pid,
            entity_id,
            executable: spec.executable.to_string(),
            name,
            start,
            user: spec.user,
            role: spec.role,
            kind: spec.kind,
            hash_seed: rng.next_u64(),
            frag: f,
            ancestry,
            session_leader,
            entry_leader,
            entry_leader_parent,
        })
    }

    /// A copy of `p` that lives on this host but keeps `p`'s entity id (used to
    /// check that the join key is the pair (host.id, process.entity_id)).
    pub(crate) fn clone_foreign(&self, p: &Proc) -> Arc<Proc> {
        Arc::new(Proc {
            pid: p.pid,
            entity_id: p.entity_id.clone(),
            executable: p.executable.clone(),
            name: p.name.clone(),
            start: p.start,
            user: p.user,
            role: Role::Scenario,
            kind: p.kind,
            hash_seed: p.hash_seed ^ 0x5555,
            frag: p.frag.clone(),
            ancestry: p.ancestry.clone(),
            session_leader: p.session_leader.clone(),
            entry_leader: p.entry_leader.clone(),
            entry_leader_parent: p.entry_leader_parent.clone(),
        })
    }
}
