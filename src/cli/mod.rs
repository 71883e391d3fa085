//! The command line: clap arguments, one file per command, each turned into the runner's plain
//! options; the runner does the work. Exit codes: 0 success, 1 internal failure, 2 bad input,
//! 3 a file operation the system refused, 130 Ctrl-C, 141 a closed standard output
//! ([`crate::error::Error::exit_code`]).

pub mod benchmark;
pub mod calibrate;
pub mod caps;
pub mod compare;
pub mod merge;
pub mod plan;
pub mod run;
pub mod shell;
pub mod validation;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Error;

/// etcdsim: predict how fast an etcd cluster serves reads, and where each read's time goes.
///
/// A deterministic discrete-event simulation of an etcd cluster's request path: clients and
/// their load balancing, the network, gRPC and auth (tokens, RBAC, password Authenticate,
/// certificates), serializable and linearizable (ReadIndex) reads with their batching, the raft
/// Ready loop, the write path (replication, WAL fsyncs, serial apply, backend commits) and the
/// locks through which it slows reads, and the MVCC index and boltdb costs. The same inputs and
/// seed always give the same numbers. Models live in models/, experiments in experiments/.
#[derive(Parser, Debug)]
#[command(name = "etcdsim", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Predict what etcd's `benchmark` tool would report. Accepts its flags, so a real
    /// command line can be pasted: `etcdsim benchmark --conns=100 --clients=1000 range foo
    /// --consistency=l --total=100000`.
    Benchmark(Box<benchmark::BenchmarkCmd>),
    /// Run an experiment file (a grid of parameters), writing CSV and SVG charts under
    /// output/<experiment>/.
    Run(run::RunArgs),
    /// Teach where a read's time goes: a table of stages (mean, p99, share, queueing or
    /// service) with what etcd does in each, and the bottleneck. Takes the flags of
    /// `benchmark`: `etcdsim explain --conns=100 --clients=1000 range foo --consistency=l`.
    Explain(Box<benchmark::ExplainArgs>),
    /// Write the timelines of the first requests as Chrome trace-event JSON (open it in
    /// ui.perfetto.dev or chrome://tracing). Takes the flags of `benchmark`.
    Trace(Box<benchmark::TraceArgs>),
    /// Join the outputs of `etcdsim run --shard K/N` into the files one machine would write.
    Merge(merge::MergeArgs),
    /// Compare two output folders of the same grid (their summary.csv), point by point: B − A
    /// of throughput and latency with 95% half widths; `--csv FILE` writes them too.
    Compare(compare::CompareArgs),
    /// Fit a model's component costs to measured benchmark runs (a reference CSV, or files of
    /// etcd benchmark output: the command line, then its report): a
    /// Nelder–Mead search over the parameters a calibration file frees, within their bounds.
    /// Prints each row measured against predicted, and writes the fitted model.
    /// `etcdsim calibrate experiments/calibrate/gce-8vcpu-ssd.toml --check` only compares.
    Calibrate(calibrate::CalibrateArgs),
    /// Regenerate docs/validation.md: the engine against queueing theory, the reference
    /// model against etcd's published benchmark, and the limits of the model.
    Validation(validation::ValidationArgs),
    /// Capacity planning: for each candidate cluster in a plan file, the maximum read rate that
    /// meets the objectives (p99 read and write latency, no failures), its headroom over the
    /// target and its bottleneck; then the cheapest candidate that meets the target, why the
    /// cheaper ones fail, and a sensitivity (tornado) chart. Writes output/<plan>/.
    Plan(plan::PlanArgs),
    /// Write a shell completion script to standard output: `etcdsim completions bash >
    /// ~/.local/share/bash-completion/completions/etcdsim` (also zsh, fish, powershell,
    /// elvish).
    Completions(shell::CompletionsArgs),
    /// Write etcdsim's man page (roff, every command and flag) to standard output:
    /// `etcdsim man > etcdsim.1 && man ./etcdsim.1`.
    Man(shell::ManArgs),
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Error> = match cli.command {
        Command::Benchmark(a) => a.run(),
        Command::Run(a) => a.run(),
        Command::Merge(a) => a.run(),
        Command::Compare(a) => a.run(),
        Command::Calibrate(a) => a.run(),
        Command::Validation(a) => a.run(),
        Command::Plan(a) => a.run(),
        Command::Explain(a) => a.run(),
        Command::Trace(a) => a.run(),
        Command::Completions(a) => a.run(),
        Command::Man(a) => a.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away: nobody is left to tell.
        Err(e @ Error::BrokenPipe) => ExitCode::from(e.exit_code()),
        Err(e) => {
            crate::runner::console::note(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}
