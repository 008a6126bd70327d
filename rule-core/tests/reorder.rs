//! Property: a stream whose events arrive at most the reorder window late
//! gives exactly the alerts of the same stream in event-time order.

use defend_gen::{generate, GenConfig, Profile};
use proptest::prelude::*;
use rule_core::{Engine, Limits, Rule};
use serde_json::Value;

fn timestamp_ms(line: &str) -> i64 {
    let v: Value = serde_json::from_str(line).unwrap();
    rule_core::time::parse_rfc3339_ms(v["@timestamp"].as_str().unwrap()).unwrap()
}

fn alerts(events: &[&str], window: u64) -> Vec<String> {
    let mut e = Engine::new(
        Rule::embedded(),
        Limits {
            reorder_window_ms: window,
            ..Limits::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    for line in events {
        e.push(line.as_bytes()).unwrap();
        out.extend(e.drain().into_iter().map(|a| a.into_string()));
    }
    e.flush();
    out.extend(e.drain().into_iter().map(|a| a.into_string()));
    assert_eq!(
        e.stats().late_events,
        0,
        "no event came later than the window"
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn shuffles_within_the_window_change_nothing(seed in any::<u64>(), window in 1u64..4000) {
        let lines: Vec<String> = generate(&GenConfig { events: 3000, seed: 5, profile: Profile::ReferenceDomain }).collect();
        let stamps: Vec<i64> = lines.iter().map(|l| timestamp_ms(l)).collect();
        // Each event is delayed by up to `window` ms of event time.
        let mut rng = seed | 1;
        let mut arrival: Vec<(i64, usize)> = stamps
            .iter()
            .enumerate()
            .map(|(i, &ts)| {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
                (ts + (rng % (window + 1)) as i64, i)
            })
            .collect();
        arrival.sort();
        let shuffled: Vec<&str> = arrival.iter().map(|&(_, i)| lines[i].as_str()).collect();
        // The same events in event-time order; equal stamps keep arrival order (S6).
        let mut in_order: Vec<(i64, usize, &str)> =
            arrival.iter().enumerate().map(|(pos, &(_, i))| (stamps[i], pos, lines[i].as_str())).collect();
        in_order.sort();
        let sorted: Vec<&str> = in_order.iter().map(|&(_, _, l)| l).collect();
        let expected = alerts(&sorted, 0);
        prop_assert!(expected.len() > 5);
        prop_assert_eq!(alerts(&shuffled, window), expected);
    }
}
