//! `rulehost gen`: the seeded generator of Defend-shaped events
//! (`defend-gen`) as NDJSON, for benchmarks and experiments.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use defend_gen::{write_ndjson, GenConfig, Profile};

/// Which mix of events to generate (see `defend_gen::Profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Benchmark mix: mostly system-path processes, ~3% from writable paths,
    /// rare true positives, events of 2 to 3 KB.
    Realistic,
    /// The domain where Elasticsearch and Python `eql` 1.0.1 agree, dense in
    /// the rule's corner cases (about 9% of events complete a sequence).
    Reference,
}

impl ProfileArg {
    pub fn profile(self) -> Profile {
        match self {
            ProfileArg::Realistic => Profile::Realistic,
            ProfileArg::Reference => Profile::ReferenceDomain,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProfileArg::Realistic => "realistic",
            ProfileArg::Reference => "reference",
        }
    }
}

#[derive(Args)]
pub struct GenArgs {
    /// Number of events (lines).
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub events: usize,

    /// Seed; the same seed and profile always give the same bytes, and a
    /// shorter run is a prefix of a longer one.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,

    /// The mix of events.
    #[arg(long, value_enum, default_value_t = ProfileArg::Realistic)]
    pub profile: ProfileArg,

    /// Write here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl GenArgs {
    pub fn config(&self) -> GenConfig {
        GenConfig {
            events: self.events,
            seed: self.seed,
            profile: self.profile.profile(),
        }
    }
}

/// Writes the events; returns the bytes written.
pub fn gen(args: &GenArgs) -> Result<u64, String> {
    let config = args.config();
    match &args.output {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let n = write_ndjson(&config, &mut out)
                .and_then(|n| out.flush().map(|()| n))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(n)
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            match write_ndjson(&config, &mut out).and_then(|n| out.flush().map(|()| n)) {
                Ok(n) => Ok(n),
                // `rulehost gen | head`: the reader left, which is fine.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
                Err(e) => Err(format!("stdout: {e}")),
            }
        }
    }
}
