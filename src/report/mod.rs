//! Reports: text for the terminal, CSV rows, charts (SVG and PNG) and HTML pages. Pure
//! functions of results; the runner decides where they go.

pub mod benchmark;
pub mod calibration;
pub mod charts;
pub mod compare;
pub mod experiment;
pub mod experiment_charts;
pub mod explain;
pub mod html;
pub mod json;
pub mod plan;
pub mod table;
pub mod tidy;
pub mod timeline;
pub mod trace;
