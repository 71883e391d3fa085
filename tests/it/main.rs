//! The integration tests: one crate, one module per topic.

mod analytic;
mod anywhere;
mod auth;
mod badinput;
mod budgets;
mod charts;
mod cli;
mod determinism;
mod experiment;
mod golden;
mod guide;
mod harness;
mod json;
mod mechanisms;
mod outputs;
mod pasted;
mod plan;
mod probe;
mod published;
mod readpath;
mod rules;
mod signals;
mod support;
mod timeline;
mod verify;
mod writes;
