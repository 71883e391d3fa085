//! etcdsim: a deterministic discrete-event simulator of an etcd cluster's request path.
//!
//! Data flows one way: files are read and validated by `config`, a run assembles a model
//! from validated parameters and drives it with the `engine`, `stats` summarise what the model
//! records, and the runner writes reports. The engine knows nothing about etcd; models know
//! nothing about files.

// Standard output and error are written through `runner::console`, which never panics on a
// closed pipe; a bare print macro would (`etcdsim validation 2>&- ` once did).
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod capacity;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod goruntime;
pub mod model;
pub mod queueing;
pub mod report;
pub mod runner;
pub mod stats;
