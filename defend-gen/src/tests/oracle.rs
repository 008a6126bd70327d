//! An independent implementation of the rule, under Elasticsearch's
//! semantics and Python `eql` 1.0.1's, that finds the sequences in a
//! stream, for the tests to compare with the ones the generator designed.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Mode {
    /// Elasticsearch: case-sensitive `==`/`in`/`like`, mapped IPv6 normalised.
    Es,
    /// Python eql 1.0.1: case-insensitive, no normalisation, no bare `::1`.
    Py,
}

/// `*`-only wildcard match, anchored (ASCII case folding when `ci`).
pub(super) fn wildcard(value: &str, pat: &str, ci: bool) -> bool {
    let (v, p) = (value.as_bytes(), pat.as_bytes());
    let same = |a: u8, b: u8| {
        if ci {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < v.len() {
        if j < p.len() && p[j] == b'*' {
            star = Some((j, i));
            j += 1;
        } else if j < p.len() && same(p[j], v[i]) {
            i += 1;
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == b'*' {
        j += 1;
    }
    j == p.len()
}

pub(super) fn any_like(vals: &[&str], pats: &[&str], ci: bool) -> bool {
    vals.iter().any(|v| pats.iter().any(|p| wildcard(v, p, ci)))
}

pub(super) fn any_eq(vals: &[&str], lits: &[&str], ci: bool) -> bool {
    vals.iter().any(|v| {
        lits.iter().any(|l| {
            if ci {
                v.eq_ignore_ascii_case(l)
            } else {
                v == l
            }
        })
    })
}

pub(super) const WRITABLE: &[&str] = &[
    "/boot/*",
    "/dev/shm/*",
    "/tmp/*",
    "/var/tmp/*",
    "/var/log/*",
    "/var/run/user/*",
    "/run/user/*",
];
pub(super) const V4_CIDRS: &[&str] = &[
    "10.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.168.0.0/16",
    "192.88.99.0/24",
    "224.0.0.0/4",
    "100.64.0.0/10",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
];
pub(super) const V6_CIDRS: &[&str] = &["FE80::/10", "FF00::/8", "FC00::/7"];

pub(super) fn in_v4(ip: Ipv4Addr, cidr: &str) -> bool {
    let (a, n) = cidr.split_once('/').unwrap();
    let net = u32::from(a.parse::<Ipv4Addr>().unwrap());
    let n: u32 = n.parse().unwrap();
    let mask = if n == 0 { 0 } else { u32::MAX << (32 - n) };
    u32::from(ip) & mask == net & mask
}

pub(super) fn in_v6(ip: Ipv6Addr, cidr: &str) -> bool {
    let (a, n) = cidr.split_once('/').unwrap();
    let net = u128::from(a.parse::<Ipv6Addr>().unwrap());
    let n: u32 = n.parse().unwrap();
    let mask = if n == 0 { 0 } else { u128::MAX << (128 - n) };
    u128::from(ip) & mask == net & mask
}

/// The stage-1 `not (destination.ip == null or == "0.0.0.0" or cidrmatch(...))`
/// operand: true when the destination is excluded.
pub(super) fn dest_excluded(ev: &Value, mode: Mode) -> bool {
    let vals = strs(ev, "destination.ip");
    if vals.is_empty() {
        return true;
    }
    vals.iter().any(|raw| match mode {
        Mode::Es => match raw.parse::<IpAddr>().expect("valid ip") {
            IpAddr::V4(v4) => v4 == Ipv4Addr::UNSPECIFIED || V4_CIDRS.iter().any(|c| in_v4(v4, c)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4 == Ipv4Addr::UNSPECIFIED || V4_CIDRS.iter().any(|c| in_v4(v4, c)),
                None => v6 == Ipv6Addr::LOCALHOST || V6_CIDRS.iter().any(|c| in_v6(v6, c)),
            },
        },
        Mode::Py => {
            raw.eq_ignore_ascii_case("0.0.0.0")
                || match raw.parse::<IpAddr>().expect("valid ip") {
                    IpAddr::V4(v4) => V4_CIDRS.iter().any(|c| in_v4(v4, c)),
                    IpAddr::V6(v6) => V6_CIDRS.iter().any(|c| in_v6(v6, c)),
                }
        }
    })
}

pub(super) fn stage1(ev: &Value, mode: Mode) -> bool {
    let ci = mode == Mode::Py;
    any_eq(&strs(ev, "event.category"), &["network"], ci)
        && any_eq(&strs(ev, "host.os.type"), &["linux"], ci)
        && any_eq(&strs(ev, "event.type"), &["start"], ci)
        && any_eq(&strs(ev, "event.action"), &["connection_attempted"], ci)
        && any_like(&strs(ev, "process.executable"), WRITABLE, ci)
        && !dest_excluded(ev, mode)
}

/// Which stage-2 exclusion fires, if any (0 none).
pub(super) fn stage2_exclusion(ev: &Value, mode: Mode) -> u8 {
    let ci = mode == Mode::Py;
    let exe = strs(ev, "process.executable");
    let path = strs(ev, "file.path");
    if any_like(&strs(ev, "file.name"), &["tmp*"], ci) {
        return 1;
    }
    if any_eq(
        &strs(ev, "file.extension"),
        &["sqlite-journal", "db-journal", "lockfile", "tmp"],
        ci,
    ) {
        return 2;
    }
    if any_like(
        &path,
        &[
            "/loki/wal/*",
            "/dev/shm/.org.chromium.Chromium.*",
            "/opt/rapid7/nexpose/*",
            "/usr/local/ltechagent*",
            "/var/lib/cloudendure/agent_keystore_temp",
            "/var/cache/yum/*",
            "/run/aws-node/ipam.json.tmp*",
            "/run/systemd/journal/streams/.*",
        ],
        ci,
    ) {
        return 3;
    }
    if any_eq(&exe, &["/tmp/terraform"], ci) && any_like(&path, &["/tmp/terraform-provider*"], ci) {
        return 4;
    }
    if any_eq(
        &strs(ev, "process.name"),
        &[
            "podman",
            "minikube",
            "logrotate",
            "java",
            "aws-k8s-agent",
            "grafana",
            "postman",
        ],
        ci,
    ) {
        return 5;
    }
    if any_like(
        &exe,
        &[
            "/etc/cron.daily/logrotate",
            "/etc/update-motd.d/50-motd-news",
            "/etc/cron.hourly/0yum-hourly.cron",
            "/etc/cron.hourly/BitdefenderRedline",
            "/tmp/token_handler",
            "/tmp/.sentry-cli*.exe",
            "/etc/cron.daily/0yum-daily.cron",
            "/etc/init.d/fortiedr",
        ],
        true,
    ) {
        return 6;
    }
    0
}

/// Stage 2 without its exclusions.
pub(super) fn stage2_candidate(ev: &Value, mode: Mode) -> bool {
    let ci = mode == Mode::Py;
    any_eq(&strs(ev, "event.category"), &["file"], ci)
        && any_eq(&strs(ev, "host.os.type"), &["linux"], ci)
        && any_eq(&strs(ev, "event.type"), &["creation"], ci)
        && any_like(&strs(ev, "process.executable"), WRITABLE, ci)
}

pub(super) fn stage2(ev: &Value, mode: Mode) -> bool {
    stage2_candidate(ev, mode) && stage2_exclusion(ev, mode) == 0
}

/// `@timestamp` truncated to milliseconds since the epoch.
pub(super) fn ts_ms(ev: &Value) -> u64 {
    let t = s(ev, "@timestamp");
    let n = |a: usize, b: usize| t[a..b].parse::<u64>().unwrap();
    let days = util::days_from_civil(n(0, 4) as i64, n(5, 7) as u32, n(8, 10) as u32) as u64;
    let secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    secs * 1000 + n(20, 23)
}

#[derive(Default, Debug)]
pub(super) struct Oracle {
    pub(super) alerts: u64,
    /// Gap (ms) of each alert.
    pub(super) gaps: HashMap<u64, u64>,
    /// Stage-2 events whose pending stage 1 was exactly 5001 ms earlier.
    pub(super) late_by_1ms: u64,
    /// Stage-1 events that replaced a live pending one.
    pub(super) overwrites: u64,
    /// Stage-2 events right after a completed sequence on the same key.
    pub(super) after_consumed: u64,
    /// Stage-2 events whose pending sequence was expired.
    pub(super) expired: u64,
    pub(super) pending: HashMap<(String, String), u64>,
    pub(super) completed: HashMap<(String, String), u64>,
}

impl Oracle {
    /// Feeds one event (in arrival order); `s1` / `s2` are its stage filters.
    pub(super) fn feed(&mut self, ev: &Value, mode: Mode, s1: bool, s2: bool) {
        if !s1 && !s2 {
            return;
        }
        let (Some(h), Some(e)) = (
            get(ev, "host.id").and_then(Value::as_str),
            get(ev, "process.entity_id").and_then(Value::as_str),
        ) else {
            return;
        };
        let key = match mode {
            Mode::Es => (h.to_string(), e.to_string()),
            Mode::Py => (h.to_lowercase(), e.to_lowercase()),
        };
        let ts = ts_ms(ev);
        if s1 {
            if self.pending.get(&key).is_some_and(|&p| ts - p <= 5_000) {
                self.overwrites += 1;
            }
            self.pending.insert(key, ts);
        } else {
            match self.pending.get(&key).copied() {
                Some(p) if ts - p <= 5_000 => {
                    self.alerts += 1;
                    *self.gaps.entry(ts - p).or_default() += 1;
                    self.pending.remove(&key);
                    self.completed.insert(key, ts);
                }
                Some(p) => {
                    self.expired += 1;
                    if ts - p == 5_001 {
                        self.late_by_1ms += 1;
                    }
                }
                None => {
                    if self.completed.get(&key).is_some_and(|&c| ts - c <= 5_000) {
                        self.after_consumed += 1;
                    }
                }
            }
        }
    }

    pub(super) fn gap(&self, ms: u64) -> u64 {
        self.gaps.get(&ms).copied().unwrap_or(0)
    }
}
