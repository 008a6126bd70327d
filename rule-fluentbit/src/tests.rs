//! The filter logic in process; the module itself, under a host that calls
//! it as Fluent Bit does, is tested in `tests/tests/fluent_bit.rs`.

use super::*;

const COMMON: &str = r#""host":{"id":"h1","os":{"type":"linux"}},"process":{"entity_id":"p1","executable":"/tmp/agent","name":"agent"}"#;

fn network(ts: Option<&str>) -> String {
    let ts = ts
        .map(|t| format!(r#""@timestamp":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{{ts}{COMMON},"event":{{"category":["network"],"type":["start"],"action":"connection_attempted"}},"destination":{{"ip":"203.0.114.7"}}}}"#
    )
}

fn file(ts: Option<&str>) -> String {
    let ts = ts
        .map(|t| format!(r#""@timestamp":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{{ts}{COMMON},"event":{{"category":["file"],"type":["creation"],"action":"creation"}},"file":{{"path":"/tmp/task.sh","name":"task.sh","extension":"sh"}}}}"#
    )
}

/// The reply without its NUL, as text.
fn text(reply: &[u8]) -> String {
    let (last, body) = reply.split_last().expect("a reply has its NUL");
    assert_eq!(*last, 0, "a reply ends with NUL");
    assert!(!body.contains(&0), "no NUL inside a reply");
    String::from_utf8(body.to_vec()).expect("UTF-8")
}

fn call(f: &mut Filter, mode: Mode, record: &str) -> String {
    text(f.call(mode, 1_700_000_000, 0, Record::Bytes(record.as_bytes())))
}

/// The alerts the native engine gives for the same records.
fn native(records: &[&str]) -> Vec<String> {
    let mut e = Engine::with_embedded_rule();
    records
        .iter()
        .flat_map(|r| {
            e.push_with_fallback_time(r.as_bytes(), record_time_ms(1_700_000_000, 0))
                .expect("taken");
            e.drain().into_iter().map(Alert::into_string)
        })
        .collect()
}

#[test]
fn pass_through_adds_alerts_to_the_completing_record_only() {
    let (n, fl) = (
        network(Some("2026-11-22T07:33:01Z")),
        file(Some("2026-11-22T07:33:02Z")),
    );
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::PassThrough, &n), n);
    let out = call(&mut f, Mode::PassThrough, &fl);
    let alerts = native(&[&n, &fl]);
    assert_eq!(alerts.len(), 1);
    let expected = format!(
        "{},\"alerts\":[{}]}}",
        &fl[..fl.len() - 1],
        alerts.join(",")
    );
    assert_eq!(out, expected);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.counters().alerts, 1);
}

#[test]
fn alerts_only_drops_other_records_and_carries_every_alert() {
    let n = network(Some("2026-11-22T07:33:01Z"));
    // Two file events, each completing: the first consumes the network
    // event, so only one alert; a second network event opens another.
    let fl = file(Some("2026-11-22T07:33:02Z"));
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::AlertsOnly, &n), "");
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    assert_eq!(
        out,
        format!("{{\"alerts\":[{}]}}", native(&[&n, &fl]).join(","))
    );
    assert_eq!(call(&mut f, Mode::AlertsOnly, &fl), "");
}

#[test]
fn record_time_stands_in_for_a_missing_timestamp() {
    let (n, fl) = (network(None), file(None));
    let mut f = Filter::new();
    assert_eq!(
        text(f.call(Mode::AlertsOnly, 100, 0, Record::Bytes(n.as_bytes()))),
        ""
    );
    // 6 s later: past maxspan (5 s), no alert.
    assert_eq!(
        text(f.call(Mode::AlertsOnly, 106, 0, Record::Bytes(fl.as_bytes()))),
        ""
    );
    let mut f = Filter::new();
    f.call(Mode::AlertsOnly, 100, 0, Record::Bytes(n.as_bytes()));
    let out = text(f.call(
        Mode::AlertsOnly,
        104,
        999_999_999,
        Record::Bytes(fl.as_bytes()),
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["alerts"][0]["@timestamp"], "1970-01-01T00:01:44.999Z");
    assert_eq!(f.counters().refused, 0);
}

#[test]
fn records_nested_past_fluent_bits_depth_are_refused_before_the_engine() {
    // `destination.ip` in `arrays` arrays: the record nests arrays + 2.
    let nested = |arrays: usize, ts: &str| {
        let ip = format!(
            "{}\"203.0.114.7\"{}",
            "[".repeat(arrays),
            "]".repeat(arrays)
        );
        network(Some(ts)).replace("\"203.0.114.7\"", &ip)
    };
    assert!(!nests_deeper_than(
        nested(57, "x").as_bytes(),
        MAX_RECORD_DEPTH
    ));
    assert!(nests_deeper_than(
        nested(58, "x").as_bytes(),
        MAX_RECORD_DEPTH
    ));
    // Brackets inside strings are text.
    assert!(!nests_deeper_than(br#"{"a":"[[[[\"{{{{"}"#, 2));
    assert!(nests_deeper_than(br#"{"a":"\\",[[1]]}"#, 2));

    let mut f = Filter::new();
    let (deepest, deeper) = (
        nested(57, "2026-11-22T07:33:01Z"),
        nested(58, "2026-11-22T07:33:01Z"),
    );
    assert_eq!(call(&mut f, Mode::PassThrough, &deeper), deeper);
    assert_eq!(f.counters().too_deep, 1);
    assert_eq!(f.engine().stats().events, 0, "the engine never saw it");
    // The deepest record taken completes a sequence whose reply nests
    // exactly FLUENT_BIT_MAX_DEPTH levels.
    call(&mut f, Mode::AlertsOnly, &deepest);
    let out = call(
        &mut f,
        Mode::AlertsOnly,
        &file(Some("2026-11-22T07:33:02Z")),
    );
    assert!(!nests_deeper_than(out.as_bytes(), FLUENT_BIT_MAX_DEPTH));
    assert!(nests_deeper_than(out.as_bytes(), FLUENT_BIT_MAX_DEPTH - 1));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["rule_refused"]["total"], 1);
    assert_eq!(v["rule_refused"]["too_deep"], 1);
    assert!(v["rule_refused"]["last"]
        .as_str()
        .unwrap()
        .contains("59 levels"));
}

#[test]
fn refused_records_pass_unchanged_and_are_counted_on_the_next_reply() {
    let bad = r#"{"@timestamp":"2026-11-22T07:33:00Z","destination":{"ip":"10.0.0.999"},"event":{"category":"network"}}"#;
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::PassThrough, bad), bad);
    assert_eq!(call(&mut f, Mode::AlertsOnly, bad), "");
    assert_eq!(f.counters().refused, 2);
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = file(Some("2026-11-22T07:33:02Z"));
    call(&mut f, Mode::AlertsOnly, &n);
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["rule_refused"]["total"], 2);
    assert_eq!(v["rule_refused"]["malformed_ip"], 2);
    assert!(v["rule_refused"]["last"]
        .as_str()
        .unwrap()
        .contains("10.0.0.999"));
    let stats: serde_json::Value = serde_json::from_str(&text(f.stats_json())).expect("stats JSON");
    assert_eq!(stats["filter"]["refused"], 2);
    assert_eq!(stats["engine"]["errors"]["malformed_ip"], 2);
}

#[test]
fn a_null_record_is_answered_with_a_kept_error_marker() {
    let mut f = Filter::new();
    for mode in [Mode::PassThrough, Mode::AlertsOnly] {
        let out = text(f.call(mode, 0, 0, Record::Null { len: 9000 }));
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON object");
        assert_eq!(v["rule_error"], "null_record");
        assert!(v["message"].as_str().unwrap().contains("9000 bytes"));
    }
    let out = text(f.call(
        Mode::PassThrough,
        0,
        0,
        Record::OutOfBounds {
            ptr: 70_000,
            len: 10,
            memory_bytes: 65_536,
        },
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON object");
    assert_eq!(v["rule_error"], "bad_pointer");
    assert_eq!(v["rule_refused"]["total"], 3);
    assert_eq!(v["rule_refused"]["null_record"], 2);
    assert_eq!(f.counters().records, 3);
}

#[test]
fn nul_terminators_are_stripped_and_white_space_kept() {
    assert_eq!(strip_nul(b"{}\0"), b"{}");
    assert_eq!(strip_nul(b"{}\0\0"), b"{}");
    assert_eq!(strip_nul(b""), b"");
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = format!(" {} \n", file(Some("2026-11-22T07:33:02Z")));
    let mut f = Filter::new();
    let with_nul = format!("{n}\0");
    assert_eq!(call(&mut f, Mode::PassThrough, &with_nul), n);
    let out = call(&mut f, Mode::PassThrough, &fl);
    assert!(out.starts_with(' ') && out.ends_with("]} \n"), "{out:?}");
    serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
}

#[test]
fn garbage_never_panics() {
    let mut f = Filter::new();
    for input in [
        &b""[..],
        b"\0",
        b"{",
        b"}",
        b"[1,2]",
        b"\xff\xfe",
        b"{\"@timestamp\":{}}",
        b"null",
    ] {
        for mode in [Mode::PassThrough, Mode::AlertsOnly] {
            let reply = f
                .call(mode, u32::MAX, u32::MAX, Record::Bytes(input))
                .to_vec();
            assert_eq!(reply.last(), Some(&0));
            if mode == Mode::PassThrough {
                assert_eq!(&reply[..reply.len() - 1], strip_nul(input));
            } else {
                assert_eq!(reply, b"\0");
            }
        }
    }
}

#[test]
fn record_time_is_unsigned_and_in_milliseconds() {
    assert_eq!(record_time_ms(0, 0), 0);
    assert_eq!(record_time_ms(1, 999_999_999), 1999);
    assert_eq!(record_time_ms(u32::MAX, 0), i64::from(u32::MAX) * 1000);
}

#[test]
fn long_messages_are_cut() {
    let mut f = Filter::new();
    f.set_last(format_args!("{}", "é".repeat(1000)));
    f.counters.refused = 1;
    let summary = f.refused_summary();
    let v: serde_json::Value = serde_json::from_str(&summary).expect("JSON");
    let last = v["last"].as_str().unwrap();
    assert!(
        last.ends_with('…') && last.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8(),
        "{last}"
    );
}

#[test]
fn alerts_of_a_reply_that_could_not_be_allocated_go_out_with_the_next() {
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = file(Some("2026-11-22T07:33:02Z"));
    let other = network(Some("2026-11-22T07:33:03Z")).replace("\"p1\"", "\"p2\"");
    let alert = native(&[&n, &fl]).remove(0);

    // alerts_only: the next record's reply carries the alert.
    let mut f = Filter::new();
    call(&mut f, Mode::AlertsOnly, &n);
    f.fail_next_reply = true;
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    assert!(
        out.starts_with("{\"rule_error\":\"out_of_memory\""),
        "{out}"
    );
    let out = call(&mut f, Mode::AlertsOnly, &other);
    assert_eq!(
        out,
        format!("{{\"alerts\":[{alert}],\"rule_refused\":{{\"total\":0,\"out_of_memory\":1}}}}")
    );
    assert_eq!(f.counters().alerts, 1);

    // pass_through: not on a refused record (it goes on unchanged), on the
    // next record the engine takes.
    let bad = r#"{"@timestamp":"2026-11-22T07:33:03Z","destination":{"ip":"x"},"event":{"category":"network"}}"#;
    let mut f = Filter::new();
    call(&mut f, Mode::PassThrough, &n);
    f.fail_next_reply = true;
    call(&mut f, Mode::PassThrough, &fl);
    assert_eq!(call(&mut f, Mode::PassThrough, bad), bad);
    let out = call(&mut f, Mode::PassThrough, &other);
    assert!(
        out.starts_with(&format!(
            "{},\"alerts\":[{alert}]",
            &other[..other.len() - 1]
        )),
        "{out}"
    );

    // A lost record's marker carries them too.
    let mut f = Filter::new();
    call(&mut f, Mode::AlertsOnly, &n);
    f.fail_next_reply = true;
    call(&mut f, Mode::AlertsOnly, &fl);
    let out = text(f.call(Mode::AlertsOnly, 0, 0, Record::Null { len: 1 }));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["rule_error"], "null_record");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.counters().alerts, 1);
}

/// `v` as MessagePack (smallest forms).
fn msgpack(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    fn header(n: usize, fix: u8, wide: u8, out: &mut Vec<u8>) {
        if n < 16 {
            out.push(fix | n as u8);
        } else {
            out.push(wide);
            out.extend((n as u16).to_be_bytes());
        }
    }
    fn text(s: &str, out: &mut Vec<u8>) {
        match s.len() {
            n @ 0..=31 => out.push(0xa0 | n as u8),
            n @ 32..=255 => out.extend([0xd9, n as u8]),
            n => {
                out.push(0xda);
                out.extend((n as u16).to_be_bytes());
            }
        }
        out.extend(s.as_bytes());
    }
    match v {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(0xc2 | u8::from(*b)),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => {
                out.push(0xcf);
                out.extend(u.to_be_bytes());
            }
            (None, Some(i)) => {
                out.push(0xd3);
                out.extend(i.to_be_bytes());
            }
            _ => {
                out.push(0xcb);
                out.extend(n.as_f64().unwrap_or(0.0).to_be_bytes());
            }
        },
        Value::String(s) => text(s, out),
        Value::Array(a) => {
            header(a.len(), 0x90, 0xdc, out);
            a.iter().for_each(|x| msgpack(x, out));
        }
        Value::Object(m) => {
            header(m.len(), 0x80, 0xde, out);
            for (k, x) in m {
                text(k, out);
                msgpack(x, out);
            }
        }
    }
}

/// The alert strings of a MessagePack reply `{"alerts":[...],...}`.
fn msgpack_alerts(reply: &[u8]) -> Vec<String> {
    let (last, body) = reply.split_last().expect("NUL");
    assert_eq!(*last, 0);
    assert!(
        !body.contains(&0),
        "no zero byte inside a MessagePack reply"
    );
    // Only what the filter writes: fixmap, fixstr/str8/str16, fixarray.
    let mut i = 1;
    let mut out = Vec::new();
    let read_str = |i: &mut usize| -> String {
        let (len, skip) = match body[*i] {
            b @ 0xa0..=0xbf => (usize::from(b & 0x1f), 1),
            0xd9 => (usize::from(body[*i + 1]), 2),
            0xda => (
                usize::from(u16::from_be_bytes([body[*i + 1], body[*i + 2]])),
                3,
            ),
            b => panic!("not a string: {b:#x}"),
        };
        *i += skip + len;
        String::from_utf8(body[*i - len..*i].to_vec()).expect("UTF-8")
    };
    for _ in 0..(body[0] & 0x0f) {
        let key = read_str(&mut i);
        if key == "alerts" {
            let n = body[i] & 0x0f;
            i += 1;
            for _ in 0..n {
                out.push(read_str(&mut i).trim_end().to_string());
            }
        } else {
            read_str(&mut i);
        }
    }
    assert_eq!(i, body.len());
    out
}

#[test]
fn msgpack_alerts_only_gives_the_json_alerts_with_no_zero_byte() {
    let mut records = Vec::new();
    for k in 0..20 {
        let ts = |s: u32| format!("2026-11-22T07:{:02}:{:02}Z", k, s);
        records.push(network(Some(&ts(1))));
        records.push(file(Some(&ts(2))));
        records.push(file(Some(&ts(3))));
    }
    records.push(r#"{"@timestamp":"2026-11-22T08:00:00Z","destination":{"ip":"nope"}}"#.into());
    let mut json = Filter::new();
    let mut mp = Filter::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in &records {
        let out = call(&mut json, Mode::AlertsOnly, r);
        if !out.is_empty() {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            a.extend(
                v["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_string()),
            );
        }
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        let mut bytes = Vec::new();
        msgpack(&v, &mut bytes);
        match mp.call_msgpack(1_700_000_000, 0, Record::Bytes(&bytes)) {
            MsgpackReply::Reply(reply) => {
                for alert in msgpack_alerts(reply) {
                    let v: serde_json::Value = serde_json::from_str(&alert).unwrap();
                    b.push(v.to_string());
                }
            }
            MsgpackReply::Drop => {}
        }
    }
    assert_eq!(a.len(), 20);
    assert_eq!(a, b);
    assert_eq!(json.counters().refused, mp.counters().refused);
    assert_eq!(mp.counters().alerts, 20);
}

#[test]
fn msgpack_replies_hold_no_zero_byte_and_at_most_fifteen_alerts() {
    let mut f = Filter::new();
    for k in 0..40u32 {
        let mut v: serde_json::Value =
            serde_json::from_str(&network(Some("2026-11-22T07:33:01Z"))).unwrap();
        v["process"]["entity_id"] = format!("p{k}").into();
        let mut bytes = Vec::new();
        msgpack(&v, &mut bytes);
        assert_eq!(
            f.call_msgpack(1, 0, Record::Bytes(&bytes)),
            MsgpackReply::Drop
        );
    }
    let mut total = 0;
    for k in 0..40u32 {
        let mut v: serde_json::Value =
            serde_json::from_str(&file(Some("2026-11-22T07:33:02Z"))).unwrap();
        v["process"]["entity_id"] = format!("p{k}").into();
        let mut bytes = Vec::new();
        msgpack(&v, &mut bytes);
        if let MsgpackReply::Reply(reply) = f.call_msgpack(1, 0, Record::Bytes(&bytes)) {
            let n = msgpack_alerts(reply).len();
            assert!(n <= MAX_ALERTS_PER_REPLY);
            total += n;
        }
    }
    assert_eq!(total, 40);
    // Garbage and lost records: answered, never a panic, no zero byte.
    for bad in [&[][..], &[0xc1], &[0x81, 0xa1], &[0xdf, 0, 0, 0, 1, 0xc0]] {
        let _ = f.call_msgpack(1, 0, Record::Bytes(bad));
    }
    match f.call_msgpack(1, 0, Record::Null { len: 9 }) {
        MsgpackReply::Reply(reply) => assert!(!reply[..reply.len() - 1].contains(&0)),
        MsgpackReply::Drop => panic!("a lost record is answered"),
    }
}

#[test]
fn opening_brackets_are_counted_like_a_byte_loop() {
    // Every byte value, at every place in a word and in the remainder,
    // beside neighbours that carry or borrow in the word arithmetic.
    for value in 0..=255u8 {
        for len in [1, 7, 8, 9, 16, 23] {
            for at in 0..len {
                for filler in [0u8, 0x7f, 0x80, 0xff, b'{', b'['] {
                    let mut bytes = vec![filler; len];
                    bytes[at] = value;
                    let expected = bytes.iter().filter(|&&b| b == b'{' || b == b'[').count();
                    assert_eq!(opening_brackets(&bytes), expected, "{bytes:?}");
                }
            }
        }
    }
}

#[test]
fn msgpack_records_nested_past_the_limit_are_refused_and_the_rest_taken() {
    // `{"a": [[...[1]...]]}`: the map and `arrays` arrays nest arrays + 1.
    let nested = |arrays: usize| {
        let mut bytes = vec![0x81, 0xa1, b'a'];
        bytes.extend(std::iter::repeat_n(0x91, arrays));
        bytes.push(0x01);
        bytes
    };
    let mut f = Filter::new();
    f.call_msgpack(
        1_700_000_000,
        0,
        Record::Bytes(&nested(MAX_RECORD_DEPTH - 1)),
    );
    assert_eq!(f.counters().too_deep, 0);
    f.call_msgpack(1_700_000_000, 0, Record::Bytes(&nested(MAX_RECORD_DEPTH)));
    assert_eq!(f.counters().too_deep, 1);
    // Bytes that would head arrays, inside a binary value, nest nothing.
    let mut flat = vec![0x81, 0xa1, b'a', 0xc4, 100];
    flat.extend([0x91; 100]);
    f.call_msgpack(1_700_000_000, 0, Record::Bytes(&flat));
    assert_eq!(f.counters().too_deep, 1);
}
