//! Hostile input through the module, as an attacker would shape it: 100 000
//! levels of nesting, huge strings and numbers, a hundred thousand keys. No
//! trap, every refusal counted, and a sequence started before still completes.

use host_harness::Detector;
use tests::{both, drain_lines, file_event, network_event};

const T: &str = "2024-05-01T10:00:00.000Z";

fn hostile() -> Vec<(&'static str, Vec<u8>, Option<i32>)> {
    let deep = 100_000;
    let nest = |open: &str, close: &str, inner: &str| {
        format!("{}{inner}{}", open.repeat(deep), close.repeat(deep))
    };
    let big = "x".repeat(900_000);
    let many_keys: String = (0..100_000).map(|i| format!("\"k{i}\":{i},")).collect();
    vec![
        (
            "deep arrays at the top",
            nest("[", "]", "1").into_bytes(),
            Some(-5),
        ),
        // Skipped without recursion: valid JSON, and it has no timestamp.
        (
            "deep objects at the top",
            nest("{\"a\":", "}", "1").into_bytes(),
            Some(-8),
        ),
        // Past serde_json's recursion limit (128) in a field the rule reads.
        (
            "deep arrays in a field the rule reads",
            format!(
                "{{\"@timestamp\":\"{T}\",\"process\":{{\"name\":{}}}}}",
                nest("[", "]", "\"x\"")
            )
            .into_bytes(),
            Some(-4),
        ),
        (
            "100 levels in a field the rule reads",
            format!(
                "{{\"@timestamp\":\"{T}\",\"process\":{{\"name\":{}\"x\"{}}}}}",
                "[".repeat(100),
                "]".repeat(100)
            )
            .into_bytes(),
            None,
        ),
        (
            "deep arrays under a key the rule skips",
            format!(
                "{{\"@timestamp\":\"{T}\",\"skipped\":{}\"x\"{}}}",
                "[".repeat(50_000),
                "]".repeat(50_000)
            )
            .into_bytes(),
            None,
        ),
        (
            "a 900 KB executable path",
            format!("{{\"@timestamp\":\"{T}\",\"process\":{{\"executable\":\"/tmp/{big}\"}}}}")
                .into_bytes(),
            None,
        ),
        (
            "a 900 KB string the rule skips",
            format!("{{\"@timestamp\":\"{T}\",\"skipped\":\"{big}\"}}").into_bytes(),
            None,
        ),
        (
            "a 10 MB event",
            format!(
                "{{\"@timestamp\":\"{T}\",\"x\":\"{}\"}}",
                "y".repeat(10 << 20)
            )
            .into_bytes(),
            Some(-2),
        ),
        (
            "a huge timestamp",
            b"{\"@timestamp\": 1e308}".to_vec(),
            Some(-9),
        ),
        // Under a key the rule does not read, a number is skipped unparsed.
        (
            "a number past f64, skipped",
            format!("{{\"@timestamp\":\"{T}\",\"process\":{{\"pid\":1e400}}}}").into_bytes(),
            None,
        ),
        (
            "a 300-digit integer as a keyword",
            format!(
                "{{\"@timestamp\":\"{T}\",\"host\":{{\"id\":{}}}}}",
                "9".repeat(300)
            )
            .into_bytes(),
            None,
        ),
        (
            "a 400-digit integer",
            format!(
                "{{\"@timestamp\":\"{T}\",\"host\":{{\"id\":{}}}}}",
                "9".repeat(400)
            )
            .into_bytes(),
            Some(-4),
        ),
        (
            "a hundred thousand keys",
            format!("{{{many_keys}\"@timestamp\":\"{T}\"}}").into_bytes(),
            Some(-2),
        ),
        (
            "thirty thousand keys",
            format!(
                "{{{}\"@timestamp\":\"{T}\"}}",
                (0..30_000)
                    .map(|i| format!("\"k{i}\":{i},"))
                    .collect::<String>()
            )
            .into_bytes(),
            None,
        ),
        (
            "random bytes",
            (0..65_536u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            Some(-3),
        ),
    ]
}

#[test]
fn hostile_input_is_answered_not_a_trap_and_state_survives() {
    let cases = hostile();
    let mut answers = Vec::new();
    for mut d in both() {
        let backend = d.backend();
        d.push_event(network_event("n1", "e1", T).as_bytes())
            .unwrap();
        let mut refused = 0u64;
        let mut seen = Vec::new();
        for (name, input, code) in &cases {
            let answer = d.push_event(input);
            match (&answer, code) {
                (Ok(_), None) => {}
                (Err(e), Some(want)) if e.code() == Some(*want) => refused += 1,
                _ => panic!("{backend}: {name}: expected {code:?}, got {answer:?}"),
            }
            seen.push(answer.map_err(|e| e.to_string()));
        }
        let stats: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
        let counted: u64 = stats["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(counted, refused, "{backend}: every refusal is counted");
        assert_eq!(
            stats["pending_sequences"], 1,
            "{backend}: the sequence is still pending"
        );
        assert_eq!(
            d.push_event(file_event("f1", "e1", T).as_bytes()).unwrap(),
            1,
            "{backend}"
        );
        assert_eq!(drain_lines(&mut *d).len(), 1);
        answers.push(seen);
    }
    assert_eq!(
        answers[0], answers[1],
        "the module and the native engine answer alike"
    );
}
