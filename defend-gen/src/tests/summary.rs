//! One streaming pass per (profile, seed), shared by the tests: every
//! event's shape and promises checked as it goes by, and what the tests
//! assert on counted.

use super::*;

pub(super) const PROFILES: [Profile; 2] = [Profile::Realistic, Profile::ReferenceDomain];
pub(super) const SEEDS: [u64; 4] = [1, 2, 3, 4];
pub(super) const SAMPLE: usize = 25_000;

/// Events per summary: `SAMPLE`, or `DEFEND_GEN_SAMPLE` for a closer look
/// (`DEFEND_GEN_SAMPLE=1000000 cargo test --release -p defend-gen -- --ignored --nocapture`).
pub(super) fn sample_size() -> usize {
    std::env::var("DEFEND_GEN_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SAMPLE)
}

#[derive(Default, Debug)]
pub(super) struct Summary {
    pub(super) events: u64,
    pub(super) designed: u64,
    pub(super) es: Oracle,
    pub(super) py: Oracle,
    /// Events whose stage filters differ between Elasticsearch and Python.
    pub(super) disagreements: u64,
    pub(super) writable: u64,
    pub(super) system: u64,
    /// Destinations of `connection_attempted` by class.
    pub(super) classes: HashMap<&'static str, u64>,
    /// Stage-2 candidates by the exclusion that fires (0 none).
    pub(super) exclusions: [u64; 7],
    pub(super) actions: HashSet<String>,
    pub(super) ties: u64,
    pub(super) hosts: usize,
    pub(super) procs: usize,
    pub(super) min_len: usize,
    pub(super) max_len: usize,
    pub(super) upper_tmp_exe: u64,
    pub(super) upper_file_name: u64,
}

pub(super) fn no_dotted_keys(v: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(!k.contains('.'), "dotted key {k}");
                no_dotted_keys(x);
            }
        }
        Value::Array(a) => a.iter().for_each(no_dotted_keys),
        _ => {}
    }
}

pub(super) fn is_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 28
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[27] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 27].contains(&i) || c.is_ascii_digit())
}

pub(super) fn has_upper(x: &str) -> bool {
    x.bytes().any(|b| b.is_ascii_uppercase())
}

pub(super) fn dest_class(ev: &Value) -> &'static str {
    match get(ev, "destination.ip").and_then(Value::as_str) {
        None => "null",
        Some("0.0.0.0") => "zero",
        Some("::1") => "loopback6",
        Some(ip) if ip.starts_with("::ffff:") => "mapped",
        Some(ip) if ip.contains(':') => {
            let v6: Ipv6Addr = ip.parse().unwrap();
            if in_v6(v6, "fe80::/10") {
                "v6-link-local"
            } else if in_v6(v6, "ff00::/8") {
                "v6-multicast"
            } else if in_v6(v6, "fc00::/7") {
                "v6-ula"
            } else {
                "v6-public"
            }
        }
        Some(ip) => {
            let v4: Ipv4Addr = ip.parse().unwrap();
            if V4_CIDRS.iter().any(|c| in_v4(v4, c)) {
                "v4-private"
            } else {
                "v4-public"
            }
        }
    }
}

/// The shape every event must have (both profiles).
pub(super) fn check_shape(ev: &Value, line: &str) {
    assert!(!line.contains('\n'));
    no_dotted_keys(ev);
    let ts = s(ev, "@timestamp");
    assert!(is_timestamp(ts), "{ts}");
    assert_eq!(s(ev, "event.created"), ts);
    assert_eq!(s(ev, "event.kind"), "event");
    assert_eq!(s(ev, "event.module"), "endpoint");
    assert_eq!(s(ev, "event.dataset"), s(ev, "data_stream.dataset"));
    assert_eq!(s(ev, "data_stream.type"), "logs");
    assert_eq!(s(ev, "data_stream.namespace"), "default");
    assert_eq!(s(ev, "host.os.type"), "linux");
    assert_eq!(s(ev, "host.os.name"), "Linux");
    for f in [
        "host.hostname",
        "host.name",
        "host.architecture",
        "host.os.version",
        "host.os.kernel",
        "host.os.family",
        "host.os.platform",
        "host.os.full",
        "ecs.version",
        "message",
        "process.entity_id",
        "process.executable",
        "process.command_line",
        "process.group_leader.entity_id",
        "process.session_leader.entity_id",
        "process.entry_leader.entity_id",
        "process.entry_leader.parent.entity_id",
        "user.name",
        "user.Ext.real.name",
        "group.name",
        "group.Ext.real.name",
    ] {
        assert!(!s(ev, f).is_empty(), "{f}");
    }
    let pid = get(ev, "process.pid").and_then(Value::as_u64).unwrap();
    assert!(get(ev, "process.parent.pid")
        .and_then(Value::as_u64)
        .is_some());
    if pid != 1 {
        // Only init has no parent process.
        for f in [
            "process.parent.entity_id",
            "process.parent.executable",
            "process.parent.name",
        ] {
            assert!(!s(ev, f).is_empty(), "{f}");
        }
        let ancestry = get(ev, "process.Ext.ancestry")
            .and_then(Value::as_array)
            .unwrap();
        assert_eq!(
            ancestry.first().and_then(Value::as_str),
            Some(s(ev, "process.parent.entity_id"))
        );
    }
    assert!(get(ev, "host.ip")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty()));
    assert!(get(ev, "host.mac").and_then(Value::as_array).is_some());
    assert_eq!(s(ev, "agent.type"), "endpoint");
    assert_eq!(s(ev, "elastic.agent.id"), s(ev, "agent.id"));
    assert!(get(ev, "user.id").and_then(Value::as_u64).is_some());
    assert!(get(ev, "group.id").and_then(Value::as_u64).is_some());
    assert!(get(ev, "process.args").and_then(Value::as_array).is_some());
    let exe = s(ev, "process.executable");
    assert_eq!(s(ev, "process.name"), exe.rsplit('/').next().unwrap());
    let cat = get(ev, "event.category").and_then(Value::as_array).unwrap();
    let typ = get(ev, "event.type").and_then(Value::as_array).unwrap();
    assert_eq!(cat.len(), 1);
    assert!(!typ.is_empty());
    let action = s(ev, "event.action");
    match cat[0].as_str().unwrap() {
        "network" => {
            assert_eq!(s(ev, "event.dataset"), "endpoint.events.network");
            assert!(get(ev, "source.port").is_some() && get(ev, "destination.port").is_some());
            assert!(!s(ev, "source.ip").is_empty());
            assert!(["ipv4", "ipv6"].contains(&s(ev, "network.type")));
            if action == "connection_attempted" {
                assert_eq!(typ, &[Value::from("start")]);
                assert_eq!(s(ev, "network.direction"), "egress");
                assert_eq!(s(ev, "network.transport"), "tcp");
                assert_eq!(s(ev, "message"), "Endpoint network event");
                if let Some(ip) = get(ev, "destination.ip").and_then(Value::as_str) {
                    let v6 = ip.contains(':');
                    assert_eq!(s(ev, "network.type"), if v6 { "ipv6" } else { "ipv4" });
                    assert_eq!(s(ev, "destination.address"), ip);
                    assert!(ip.parse::<IpAddr>().is_ok(), "{ip}");
                }
            }
        }
        "file" => {
            assert_eq!(s(ev, "event.dataset"), "endpoint.events.file");
            let path = s(ev, "file.path");
            let name = s(ev, "file.name");
            assert_eq!(path.rsplit('/').next().unwrap(), name);
            assert_eq!(
                get(ev, "file.extension").and_then(Value::as_str),
                render::extension(name)
            );
            if action == "creation" {
                assert_eq!(typ, &[Value::from("creation")]);
                assert!(get(ev, "file.size").is_some());
                assert!(get(ev, "file.hash.sha256").is_some());
                assert!(get(ev, "file.Ext.header_bytes").is_some());
                assert!(get(ev, "file.Ext.entropy")
                    .and_then(Value::as_f64)
                    .is_some());
            }
        }
        "process" => {
            assert_eq!(s(ev, "event.dataset"), "endpoint.events.process");
            assert!(["exec", "fork", "end"].contains(&action));
        }
        other => panic!("category {other}"),
    }
}

/// ReferenceDomain's promises (see `Profile::ReferenceDomain`).
pub(super) fn check_reference_domain(ev: &Value, folded: &mut HashMap<String, String>) {
    let ts = s(ev, "@timestamp");
    assert!(ts.ends_with("0000Z"), "{ts} is not whole ms");
    for f in [
        "event.action",
        "host.os.type",
        "process.executable",
        "process.name",
    ] {
        assert!(!has_upper(s(ev, f)), "{f}: {ev}");
    }
    for f in ["event.category", "event.type"] {
        let a = get(ev, f).and_then(Value::as_array).expect("array");
        assert_eq!(a.len(), 1, "{f}");
        assert!(a.iter().all(|x| x.as_str().is_some_and(|x| !has_upper(x))));
    }
    // Join keys: non-null scalar strings, no two equal ignoring case.
    let key = format!("{}|{}", s(ev, "host.id"), s(ev, "process.entity_id"));
    let prev = folded
        .entry(key.to_lowercase())
        .or_insert_with(|| key.clone());
    assert_eq!(*prev, key, "join keys equal ignoring case");
    let cat = strs(ev, "event.category");
    if cat == ["network"] {
        let ip = s(ev, "destination.ip");
        assert_ne!(ip, "::1");
        assert!(!has_upper(ip));
        for addr in [ip, s(ev, "source.ip")] {
            let mapped = match addr.parse::<IpAddr>().expect("valid ip") {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
                IpAddr::V4(_) => false,
            };
            assert!(!mapped, "{addr}");
        }
    }
    if cat == ["file"] {
        let path = s(ev, "file.path");
        let name = s(ev, "file.name");
        let ext = s(ev, "file.extension");
        assert!(!ext.is_empty() && !has_upper(ext), "{path}");
        // The one capitalised value is spelled exactly as the rule spells it.
        match path.strip_prefix("/dev/shm/.org.chromium.Chromium.") {
            Some(rest) => assert!(!has_upper(rest), "{path}"),
            None => assert!(!has_upper(path) && !has_upper(name), "{path}"),
        }
    }
}

pub(super) fn summarize(profile: Profile, seed: u64) -> Summary {
    let rd = profile == Profile::ReferenceDomain;
    let mut g = generate(&cfg(sample_size(), seed, profile));
    let mut sm = Summary {
        min_len: usize::MAX,
        ..Summary::default()
    };
    let mut ids = HashSet::new();
    let mut hosts = HashSet::new();
    let mut procs = HashSet::new();
    let mut last_seq: HashMap<String, u64> = HashMap::new();
    let mut last_ts = String::new();
    let mut folded = HashMap::new();
    for line in g.by_ref() {
        let ev: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        check_shape(&ev, &line);
        if rd {
            check_reference_domain(&ev, &mut folded);
        }
        sm.events += 1;
        sm.min_len = sm.min_len.min(line.len());
        sm.max_len = sm.max_len.max(line.len());
        let ts = s(&ev, "@timestamp");
        assert!(ts >= last_ts.as_str(), "{ts} after {last_ts}");
        if ts == last_ts {
            sm.ties += 1;
        }
        last_ts = ts.to_string();
        assert!(
            ids.insert(s(&ev, "event.id").to_string()),
            "duplicate event.id"
        );
        let host_id = s(&ev, "host.id");
        let seq = get(&ev, "event.sequence").and_then(Value::as_u64).unwrap();
        assert!(last_seq
            .insert(host_id.to_string(), seq)
            .is_none_or(|prev| prev < seq));
        hosts.insert(host_id.to_string());
        procs.insert(s(&ev, "process.entity_id").to_string());
        sm.actions.insert(s(&ev, "event.action").to_string());

        let exe = s(&ev, "process.executable");
        if any_like(&[exe], WRITABLE, false) {
            sm.writable += 1;
            if exe.starts_with("/tmp/") && has_upper(exe) {
                sm.upper_tmp_exe += 1;
            }
        }
        if exe.starts_with("/usr/") || exe.starts_with("/opt/") {
            sm.system += 1;
        }
        if get(&ev, "file.name")
            .and_then(Value::as_str)
            .is_some_and(has_upper)
        {
            sm.upper_file_name += 1;
        }
        if s(&ev, "event.action") == "connection_attempted" {
            *sm.classes.entry(dest_class(&ev)).or_default() += 1;
        }
        if stage2_candidate(&ev, Mode::Es) {
            sm.exclusions[stage2_exclusion(&ev, Mode::Es) as usize] += 1;
        }
        let (e1, e2) = (stage1(&ev, Mode::Es), stage2(&ev, Mode::Es));
        sm.es.feed(&ev, Mode::Es, e1, e2);
        if rd {
            let (p1, p2) = (stage1(&ev, Mode::Py), stage2(&ev, Mode::Py));
            if (e1, e2) != (p1, p2) {
                sm.disagreements += 1;
            }
            sm.py.feed(&ev, Mode::Py, p1, p2);
        }
    }
    sm.designed = g.designed_alerts;
    sm.hosts = hosts.len();
    sm.procs = procs.len();
    sm
}

/// The summary of `SAMPLE` events for `(profile, seed)`; all eight are
/// computed once, in parallel, on first use.
pub(super) fn summary(profile: Profile, seed: u64) -> &'static Summary {
    static ALL: OnceLock<Vec<Summary>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        std::thread::scope(|scope| {
            let handles: Vec<_> = PROFILES
                .iter()
                .flat_map(|&p| SEEDS.iter().map(move |&seed| (p, seed)))
                .map(|(p, seed)| scope.spawn(move || summarize(p, seed)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    });
    let i = SEEDS.iter().position(|&x| x == seed).expect("known seed");
    &all[i + if profile == Profile::ReferenceDomain {
        SEEDS.len()
    } else {
        0
    }]
}
