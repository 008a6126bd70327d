//! Quick native throughput reading: `cargo run --release -p rule-core --example speed -- FILE`.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("NDJSON file");
    let data = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for _ in 0..3 {
        let mut e = rule_core::Engine::with_embedded_rule();
        let t = Instant::now();
        let mut alerts = 0;
        for l in &lines {
            let _ = e.push(l);
            alerts += e.drain().len();
        }
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "{} events, {} alerts, {:.0} events/s, {:.0} MB/s",
            lines.len(),
            alerts,
            lines.len() as f64 / s,
            data.len() as f64 / s / 1e6
        );
    }
}
