//! Model files (`models/*.toml`): the cluster's hardware and component costs.
//!
//! Units are the last part of every key (`rtt_us`, `nic_bandwidth_gbps`, `index_visit_ns_per_key`).
//! A cost is either a number (a constant, in the key's unit) or a distribution table in that
//! unit, e.g. `grpc_request_us = { kind = "exponential", mean = 20 }`.
//!
//! A [`ModelSource`] is a model file parsed once; each variant of it (the file as it is, or
//! with [`Override`]s) is validated from that document into [`ClusterParams`].
//!
//! - `file.rs`: the raw file, one serde struct per table, with the defaults.
//! - `validate.rs`: the rules, from the raw file to the parameters.

pub mod file;
mod validate;

use serde::Deserialize;

pub use file::{Cost, ModelFile};
pub use validate::{MAX_HOSTS, parse_version};

use super::ConfigError;
use super::variant::Override;
use crate::model::ClusterParams;

/// A model file read once: its name (for messages), its text (to write a variant back with its
/// comments) and its parsed document (to derive variants from).
#[derive(Debug, Clone)]
pub struct ModelSource {
    file: String,
    text: String,
    table: toml::Table,
}

impl ModelSource {
    /// Parses `text`, the model file `file`, as TOML. Its keys and values are checked when a
    /// variant is taken ([`ModelSource::variant`]).
    pub fn parse(file: &str, text: &str) -> Result<ModelSource, ConfigError> {
        Ok(ModelSource {
            file: file.to_string(),
            text: text.to_string(),
            table: super::parse(file, text)?,
        })
    }

    /// The file's name, as messages give it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The value at a dotted key (`cpu.grpc_request_us.mean`), as the file has it.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        let (parent, last) = super::parent_of(&self.table, key)?;
        parent.get(last)
    }

    /// The model as the file has it.
    pub fn params(&self) -> Result<ClusterParams, ConfigError> {
        self.variant(&[])
    }

    /// The model with `overrides` applied in order, validated as a file would be; errors name
    /// the file.
    pub fn variant(&self, overrides: &[Override]) -> Result<ClusterParams, ConfigError> {
        let mut table = self.table.clone();
        for o in overrides {
            o.apply(&self.file, &mut table)?;
        }
        let raw = match ModelFile::deserialize(toml::Value::Table(table)) {
            Ok(raw) => raw,
            // The file itself is wrong: parse its text again, only to say on which line.
            Err(_) if overrides.is_empty() => super::parse::<ModelFile>(&self.file, &self.text)?,
            Err(e) => {
                return Err(ConfigError::Parse {
                    file: format!("{} (with --set overrides)", self.file),
                    line: None,
                    msg: super::explain_unknown(e.message().trim(), "", None),
                });
            }
        };
        raw.validate(&self.file)
    }

    /// The file's text with the numbers at `values` (dotted keys) replaced, its comments and
    /// layout kept: how a fitted model is written back.
    pub fn with_numbers(&self, values: &[(String, f64)]) -> Result<String, ConfigError> {
        let mut doc: toml_edit::DocumentMut =
            self.text
                .parse()
                .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                    file: self.file.clone(),
                    line: None,
                    msg: e.message().to_string(),
                })?;
        for (key, v) in values {
            let mut item: &mut toml_edit::Item = doc.as_item_mut();
            for p in key.split('.') {
                item = &mut item[p];
            }
            let decor = item.as_value().map(|x| x.decor().clone());
            let mut nv = toml_edit::Value::from(*v);
            if let Some(d) = decor {
                *nv.decor_mut() = d;
            }
            *item = toml_edit::Item::Value(nv);
        }
        Ok(doc.to_string())
    }
}

/// Parses and validates a model from text (`file` names it in errors), with `overrides` as
/// `--set` takes them (`key=value`).
pub fn model_from_str(
    file: &str,
    text: &str,
    overrides: &[String],
) -> Result<ClusterParams, ConfigError> {
    ModelSource::parse(file, text)?.variant(&Override::parse_all(file, overrides)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../models/gce-8vcpu-ssd.toml");

    #[test]
    fn a_variant_is_the_file_with_its_overrides() {
        let m = ModelSource::parse("m.toml", SHIPPED).unwrap();
        let base = m.params().unwrap();
        let five = m
            .variant(&[Override::Set {
                key: "cluster.voters".into(),
                value: toml::Value::Integer(5),
            }])
            .unwrap();
        assert_eq!((base.voters, five.voters), (3, 5));
        let far = m
            .variant(&[Override::Scale {
                key: "network.rtt_us".into(),
                factor: 2.0,
            }])
            .unwrap();
        let ratio = far.latency[0][1].mean_ns() / base.latency[0][1].mean_ns();
        assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
        // The source is unchanged by its variants.
        assert_eq!(m.params().unwrap().voters, 3);
        let e = m
            .variant(&[Override::number("cluster.voters", 0.0)])
            .unwrap_err();
        assert!(e.to_string().starts_with("m.toml: cluster.voters"), "{e}");
    }

    #[test]
    fn a_file_error_names_its_line_and_a_variants_error_its_overrides() {
        let text = SHIPPED.replacen("[cluster]\n", "[cluster]\nvoter = 3\n", 1);
        let m = ModelSource::parse("m.toml", &text).unwrap();
        let e = m.params().unwrap_err().to_string();
        assert!(e.starts_with("m.toml:") && e.contains("[cluster]"), "{e}");
        let e = m
            .variant(&[Override::number("cluster.voters", 5.0)])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml (with --set overrides)"), "{e}");
    }

    #[test]
    fn numbers_are_written_back_with_the_comments() {
        let text = "# top\n[cpu]\n# the cost\na_us = { kind = \"lognormal\", mean = 20, p99 = 60 }\nb_us = 3 # inline\n";
        let m = ModelSource::parse("m.toml", text).unwrap();
        let edited = m
            .with_numbers(&[("cpu.a_us.mean".into(), 30.0), ("cpu.b_us".into(), 4.25)])
            .unwrap();
        assert!(
            edited.contains("# the cost") && edited.contains("# inline"),
            "{edited}"
        );
        let m2 = ModelSource::parse("m.toml", &edited).unwrap();
        assert_eq!(
            m2.get("cpu.a_us.mean").and_then(crate::config::number),
            Some(30.0)
        );
        assert_eq!(
            m2.get("cpu.a_us.p99").and_then(crate::config::number),
            Some(60.0)
        );
        assert_eq!(
            m2.get("cpu.b_us").and_then(crate::config::number),
            Some(4.25)
        );
        assert!(m.get("cpu.nope").is_none());
    }
}
