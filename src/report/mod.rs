//! Reports: text for the terminal, CSV rows and SVG charts. Pure functions of results; the
//! runner decides where they go.

pub mod benchmark;
pub mod calibration;
pub mod charts;
pub mod compare;
pub mod experiment;
pub mod explain;
pub mod json;
pub mod plan;
pub mod table;
pub mod tidy;
pub mod trace;
