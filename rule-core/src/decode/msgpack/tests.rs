//! MessagePack and JSON of the same records: the same values taken, the
//! same refusals by kind, the same alerts.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::{msgpack_depth, to_json};
use crate::engine::Engine;
use crate::error::PushError;

/// `v` as MessagePack, each value in its smallest form.
pub(crate) fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                match u {
                    0..=0x7f => out.push(u as u8),
                    0x80..=0xff => out.extend([0xcc, u as u8]),
                    0x100..=0xffff => {
                        out.push(0xcd);
                        out.extend((u as u16).to_be_bytes());
                    }
                    0x1_0000..=0xffff_ffff => {
                        out.push(0xce);
                        out.extend((u as u32).to_be_bytes());
                    }
                    _ => {
                        out.push(0xcf);
                        out.extend(u.to_be_bytes());
                    }
                }
            } else if let Some(i) = n.as_i64() {
                if i >= -32 {
                    out.push(i as i8 as u8);
                } else {
                    out.push(0xd3);
                    out.extend(i.to_be_bytes());
                }
            } else {
                out.push(0xcb);
                out.extend(n.as_f64().unwrap_or(0.0).to_be_bytes());
            }
        }
        Value::String(s) => text(s.as_bytes(), out),
        Value::Array(a) => {
            header(a.len(), 0x90, 0xdc, out);
            for x in a {
                encode(x, out);
            }
        }
        Value::Object(m) => {
            header(m.len(), 0x80, 0xde, out);
            for (k, x) in m {
                text(k.as_bytes(), out);
                encode(x, out);
            }
        }
    }
}

fn header(n: usize, fix: u8, wide: u8, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide);
        out.extend((n as u16).to_be_bytes());
    } else {
        out.push(wide + 1);
        out.extend((n as u32).to_be_bytes());
    }
}

pub(crate) fn text(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend([0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend((n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend((n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn kind(r: &Result<usize, PushError>) -> String {
    match r {
        Ok(n) => alloc::format!("ok {n}"),
        Err(e) => e.kind().name().to_string(),
    }
}

/// Both engines on the same records: JSON text (as serde_json writes the
/// value) and MessagePack.
fn both(records: &[Value]) {
    let mut json = Engine::with_embedded_rule();
    let mut mp = Engine::with_embedded_rule();
    for (i, v) in records.iter().enumerate() {
        let text = serde_json::to_string(v).unwrap();
        let mut bytes = Vec::new();
        encode(v, &mut bytes);
        let a = json.push(text.as_bytes());
        let b = mp.push_msgpack(&bytes);
        assert_eq!(kind(&a), kind(&b), "record {i}: {text}");
        assert_eq!(
            to_json(&bytes).as_deref(),
            Some(text.as_str()),
            "record {i}"
        );
    }
    json.flush();
    mp.flush();
    let a: Vec<String> = json.drain().into_iter().map(|a| a.into_string()).collect();
    let b: Vec<String> = mp.drain().into_iter().map(|a| a.into_string()).collect();
    assert_eq!(a, b);
    assert_eq!(json.stats().errors, mp.stats().errors);
    assert_eq!(json.stats().events, mp.stats().events);
}

fn generated(profile: defend_gen::Profile, events: usize, seed: u64) -> Vec<Value> {
    let mut data = Vec::new();
    let config = defend_gen::GenConfig {
        events,
        seed,
        profile,
    };
    defend_gen::write_ndjson(&config, &mut data).unwrap();
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn generated_events_give_the_same_alerts() {
    let records = generated(defend_gen::Profile::ReferenceDomain, 3000, 7);
    both(&records);
    let records = generated(defend_gen::Profile::Realistic, 2000, 3);
    both(&records);
}

#[test]
fn refusals_are_the_same_kind() {
    let base = generated(defend_gen::Profile::ReferenceDomain, 40, 11);
    let mut records = Vec::new();
    for (i, v) in base.iter().enumerate() {
        let mut v = v.clone();
        match i % 8 {
            0 => v["destination"] = serde_json::json!({"ip": {"a": 1}}),
            1 => v["destination"] = serde_json::json!({"ip": "300.1.2.3"}),
            2 => v["@timestamp"] = serde_json::json!("yesterday"),
            3 => v["destination"] = serde_json::json!({"ip": 12}),
            4 => v["process"]["executable"] = serde_json::json!({"x": [1, 2.5, null]}),
            5 => {
                v.as_object_mut().unwrap().remove("@timestamp");
            }
            6 => v["event"]["category"] = serde_json::json!([["network", true], 3]),
            _ => {}
        }
        records.push(v);
    }
    records.push(serde_json::json!([1, 2]));
    records.push(serde_json::json!("text"));
    records.push(serde_json::json!({}));
    both(&records);
}

#[test]
fn bad_utf8_wins_over_everything() {
    let v: Value = serde_json::json!({"@timestamp": "2026-01-01T00:00:00Z",
        "destination": {"ip": "not an ip"}, "zzz": "a"});
    let mut bytes = Vec::new();
    encode(&v, &mut bytes);
    // The last string ("a") becomes a lone continuation byte.
    let last = bytes.len() - 1;
    bytes[last] = 0x80;
    let mut e = Engine::with_embedded_rule();
    assert!(matches!(
        e.push_msgpack(&bytes),
        Err(PushError::InvalidUtf8 { .. })
    ));
    let mut json = serde_json::to_string(&v).unwrap().into_bytes();
    let at = json.len() - 3;
    json[at] = 0x80;
    assert!(matches!(e.push(&json), Err(PushError::InvalidUtf8 { .. })));
}

#[test]
fn malformed_msgpack_is_refused_not_a_panic() {
    let v = generated(defend_gen::Profile::ReferenceDomain, 1, 5).remove(0);
    let mut bytes = Vec::new();
    encode(&v, &mut bytes);
    let mut e = Engine::with_embedded_rule();
    for cut in 0..bytes.len() {
        let r = e.push_msgpack(&bytes[..cut]);
        assert!(r.is_err(), "cut at {cut}");
        assert!(msgpack_depth(&bytes[..cut], 64).is_some());
        assert!(to_json(&bytes[..cut]).is_none() || cut == 0);
    }
    for bad in [
        &[0xc1u8][..],
        &[0x81, 0xc1, 0xc0],
        &[0x81, 0x01, 0xc0],
        &[0xdf, 0xff, 0xff, 0xff, 0xff],
    ] {
        assert!(
            matches!(e.push_msgpack(bad), Err(PushError::InvalidJson { .. })),
            "{bad:?}"
        );
    }
    let mut trailing = bytes.clone();
    trailing.push(0xc0);
    assert!(matches!(
        e.push_msgpack(&trailing),
        Err(PushError::InvalidJson { .. })
    ));
    assert_eq!(e.stats().events, 0);
}

#[test]
fn depth_and_json_text() {
    let v = serde_json::json!({"a": [[{"b": []}]], "s": "q\"\\\n\u{1}é", "f": 1.0, "g": -2.5e-7, "n": -3});
    let mut bytes = Vec::new();
    encode(&v, &mut bytes);
    assert_eq!(msgpack_depth(&bytes, 64), Some(5));
    assert_eq!(msgpack_depth(&bytes, 4), None);
    assert_eq!(to_json(&bytes).unwrap(), serde_json::to_string(&v).unwrap());
    // Deep nesting in a field no rule reads costs no recursion.
    let mut deep = alloc::vec![0x82, 0xa1, b'x'];
    deep.extend(core::iter::repeat_n(0x91, 100_000));
    deep.push(0xc0);
    deep.extend([0xaa]);
    deep.extend(b"@timestamp");
    deep.extend([0xa4]);
    deep.extend(b"1000");
    let mut e = Engine::with_embedded_rule();
    assert_eq!(e.push_msgpack(&deep), Ok(0));
    assert_eq!(msgpack_depth(&deep, 200), None);
}
