//! The integration tests: one crate, one module per topic.

mod analytic;
mod auth;
mod badinput;
mod cli;
mod determinism;
mod experiment;
mod golden;
mod harness;
mod mechanisms;
mod plan;
mod published;
mod readpath;
mod rules;
mod writes;
