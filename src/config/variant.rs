//! Variants of a model: a [`ModelSource`] (a model file parsed once) and the [`Override`]s that
//! derive a variant from it, a key set to a value or a number or a distribution scaled.
//!
//! Every way etcdsim derives a model from another goes through here: `--set` on the command
//! line, an experiment's `set` and `model.` axes, a plan candidate's `set` and `grid`, the plan's
//! sensitivity (a cost scaled by ±20%), and each calibration step. An override edits the parsed
//! TOML document before it is validated, so a variant is checked exactly as a file would be; a
//! fitted model is written back into the file's own text, comments kept.

use std::fmt;

use serde::Deserialize;

use super::ConfigError;
use super::dist::DistSpec;
use super::model::ModelFile;
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

/// A change to one dotted key of a TOML document (`network.rtt_us`, `cpu.grpc_request_us.mean`).
#[derive(Debug, Clone, PartialEq)]
pub enum Override {
    /// Sets the key to a value. Tables on the way are created; a key that holds a string keeps
    /// a string (`etcd_version = 3.5` sets `"3.5"`).
    Set {
        /// The dotted key.
        key: String,
        /// Its new value.
        value: toml::Value,
    },
    /// Sets the key to text typed on the command line (`--set key=text`): read as a TOML value
    /// (`8`, `1.5`, `true`, `{ kind = "exponential", mean = 20 }`), else as a bare string; a
    /// key that holds a string takes the text as it is.
    Text {
        /// The dotted key.
        key: String,
        /// The text after `=`, trimmed.
        text: String,
    },
    /// Multiplies the number at the key by `factor`, or every value of the distribution there
    /// (its shape kept: [`DistSpec::scaled`]).
    Scale {
        /// The dotted key.
        key: String,
        /// The factor (> 0).
        factor: f64,
    },
}

impl Override {
    /// Sets `key` to `value`.
    pub fn set(key: &str, value: &toml::Value) -> Override {
        Override::Set {
            key: key.to_string(),
            value: value.clone(),
        }
    }

    /// A `set = { "dotted.key" = value, ... }` table, in order.
    pub fn sets(table: &toml::Table) -> Vec<Override> {
        table.iter().map(|(k, v)| Override::set(k, v)).collect()
    }

    /// Sets `key` to the number `x` (written as an integer when it is whole, as TOML would
    /// read it back).
    pub fn number(key: &str, x: f64) -> Override {
        Override::Set {
            key: key.to_string(),
            value: number_value(x),
        }
    }

    /// Reads `key=value` as given to `--set` (`file` names the document in errors).
    pub fn parse(file: &str, o: &str) -> Result<Override, ConfigError> {
        let Some((key, text)) = o.split_once('=') else {
            return Err(ConfigError::invalid(
                file,
                o,
                "an override must look like key.path=value",
            ));
        };
        let key = key.trim();
        Ok(Override::Text {
            key: key.to_string(),
            text: text.trim().to_string(),
        })
    }

    /// [`Override::parse`] of each of `overrides`.
    pub fn parse_all(file: &str, overrides: &[String]) -> Result<Vec<Override>, ConfigError> {
        overrides.iter().map(|o| Override::parse(file, o)).collect()
    }

    /// The dotted key it changes.
    pub fn key(&self) -> &str {
        match self {
            Override::Set { key, .. }
            | Override::Text { key, .. }
            | Override::Scale { key, .. } => key,
        }
    }

    /// Applies the change to `table` (`file` names the document in errors).
    pub fn apply(&self, file: &str, table: &mut toml::Table) -> Result<(), ConfigError> {
        let key = self.key();
        let bad = |rule: String| ConfigError::invalid(file, key, rule);
        let (parent, last) = parent_mut(table, key).map_err(bad)?;
        let value = match self {
            Override::Set { value, .. } => match (parent.get(last), value) {
                (Some(toml::Value::String(_)), v) if !v.is_str() => {
                    toml::Value::String(v.to_string())
                }
                (_, v) => v.clone(),
            },
            Override::Text { text, .. } => match (parent.get(last), literal(text)) {
                (Some(toml::Value::String(_)), Some(v)) if !v.is_str() => {
                    toml::Value::String(text.clone())
                }
                (_, v) => v.unwrap_or_else(|| toml::Value::String(text.clone())),
            },
            Override::Scale { factor, .. } => parent
                .get(last)
                .and_then(|v| scaled(v, *factor))
                .ok_or_else(|| {
                    bad("cannot be scaled: it is not a number or a distribution".into())
                })?,
        };
        parent.insert(last.to_string(), value);
        Ok(())
    }
}

impl fmt::Display for Override {
    /// `key=value` as `--set` takes it (`key*=factor` for a scaling).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Override::Set { key, value } => write!(f, "{key}={}", literal_text(value)),
            Override::Text { key, text } => write!(f, "{key}={text}"),
            Override::Scale { key, factor } => write!(f, "{key}*={factor}"),
        }
    }
}

/// A value as `--set` would take it: strings quoted, the rest as TOML writes them.
pub fn literal_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The number `x` as a TOML value: an integer when it is whole and exactly representable
/// (below 2^53), so that integer keys (`cores`, `val_size`) accept it, else a float.
pub fn number_value(x: f64) -> toml::Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        toml::Value::Integer(x as i64)
    } else {
        toml::Value::Float(x)
    }
}

/// `text` read as one TOML value, if it is one.
fn literal(text: &str) -> Option<toml::Value> {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
}

/// `v` scaled by `f`: a number, or a distribution scaled whole.
fn scaled(v: &toml::Value, f: f64) -> Option<toml::Value> {
    match v {
        toml::Value::Table(_) => {
            let spec = DistSpec::deserialize(v.clone()).ok()?.scaled(f);
            toml::Value::try_from(spec).ok()
        }
        v => Some(number_value(super::number(v)? * f)),
    }
}

/// The table that holds `key`'s last part (created on the way), and that part.
fn parent_mut<'a, 'k>(
    table: &'a mut toml::Table,
    key: &'k str,
) -> Result<(&'a mut toml::Table, &'k str), String> {
    let mut parts = key.split('.');
    let last = parts.next_back().unwrap_or(key);
    if key.split('.').any(str::is_empty) {
        return Err("an override key has an empty part".into());
    }
    let mut cur = table;
    for k in parts {
        let entry = cur
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(format!("`{k}` is not a table")),
        };
    }
    Ok((cur, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn text_overrides_set_nested_values_and_read_toml_literals() {
        let mut t = table("[a]\nb = 1\n");
        for o in [
            "a.b=2.5",
            "a.c.d=hello",
            "e={ kind = \"constant\", value = 3 }",
        ] {
            Override::parse("f", o).unwrap().apply("f", &mut t).unwrap();
        }
        assert_eq!(t["a"]["b"].as_float(), Some(2.5));
        assert_eq!(t["a"]["c"]["d"].as_str(), Some("hello"));
        assert_eq!(t["e"]["kind"].as_str(), Some("constant"));
        let e = Override::parse("f", "a.b.x=1")
            .unwrap()
            .apply("f", &mut t)
            .unwrap_err();
        assert!(e.to_string().contains("`b` is not a table"), "{e}");
        assert!(Override::parse("f", "novalue").is_err());
        let e = Override::parse("f", "a..b=1")
            .unwrap()
            .apply("f", &mut t)
            .unwrap_err();
        assert!(e.to_string().contains("empty part"), "{e}");
    }

    #[test]
    fn a_string_key_keeps_a_string() {
        let mut t = table("etcd_version = \"3.4\"\n");
        Override::parse("f", "etcd_version=3.10")
            .unwrap()
            .apply("f", &mut t)
            .unwrap();
        assert_eq!(t["etcd_version"].as_str(), Some("3.10"));
        Override::Set {
            key: "etcd_version".into(),
            value: toml::Value::Float(3.5),
        }
        .apply("f", &mut t)
        .unwrap();
        assert_eq!(t["etcd_version"].as_str(), Some("3.5"));
    }

    #[test]
    fn scaling_keeps_a_distribution_shape_and_whole_numbers_whole() {
        let mut t = table(
            "[disk]\nfsync_us = { kind = \"lognormal\", mean = 1000, p99 = 3000 }\n[network]\nrtt_us = 200\n",
        );
        let scale = |key: &str, factor| Override::Scale {
            key: key.into(),
            factor,
        };
        scale("disk.fsync_us", 1.2).apply("f", &mut t).unwrap();
        assert_eq!(t["disk"]["fsync_us"]["mean"].as_float(), Some(1200.0));
        assert_eq!(t["disk"]["fsync_us"]["p99"].as_float(), Some(3600.0));
        assert_eq!(t["disk"]["fsync_us"]["kind"].as_str(), Some("lognormal"));
        scale("network.rtt_us", 0.5).apply("f", &mut t).unwrap();
        assert_eq!(t["network"]["rtt_us"].as_integer(), Some(100));
        scale("network.rtt_us", 0.125).apply("f", &mut t).unwrap();
        assert_eq!(t["network"]["rtt_us"].as_float(), Some(12.5));
        let e = scale("network.nope", 2.0).apply("f", &mut t).unwrap_err();
        assert!(e.to_string().contains("network.nope"), "{e}");
        assert_eq!(
            scale("network.rtt_us", 2.0).to_string(),
            "network.rtt_us*=2"
        );
        assert_eq!(
            Override::number("cpu.a_us", 4.25).to_string(),
            "cpu.a_us=4.25"
        );
    }

    const SHIPPED: &str = include_str!("../../models/gce-8vcpu-ssd.toml");

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
