//! Writes generated events to stdout as NDJSON.
//!
//! `cargo run --release -p defend-gen --example ndjson -- [EVENTS] [SEED] [realistic|reference]`

use std::io::Write;

use defend_gen::{write_ndjson, GenConfig, Profile};

fn main() {
    let mut args = std::env::args().skip(1);
    let events = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let profile = match args.next().as_deref() {
        Some("reference" | "reference-domain" | "ReferenceDomain") => Profile::ReferenceDomain,
        _ => Profile::Realistic,
    };
    let config = GenConfig {
        events,
        seed,
        profile,
    };
    let start = std::time::Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let bytes = write_ndjson(&config, &mut out).expect("write to stdout");
    out.flush().expect("flush stdout");
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{events} events, {bytes} bytes in {secs:.3} s ({:.0} events/s, {:.1} MB/s)",
        events as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
