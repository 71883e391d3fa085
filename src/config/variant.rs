//! Variants of a parsed file: [`Override`], a key set to a value, or a number or a distribution
//! scaled.
//!
//! Every way etcdsim derives a model from another goes through here and
//! `config::model::ModelSource`: `--set` on the command line, an experiment's `set` and `model.`
//! axes, a plan candidate's `set` and `grid`, the plan's sensitivity (a cost scaled by ±20%),
//! and each calibration step. An override edits the parsed TOML document before it is
//! validated, so a variant is checked exactly as a file would be.

use std::fmt;

use serde::Deserialize;

use super::ConfigError;
use super::dist::DistSpec;

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

/// An error `e` of a model variant taken with `overrides`, each written at `sources[i]` of the
/// file `file` (`candidates[0].set."cluster.voters"`, `grid."model.member.cores"`): blamed on
/// that place when the error's key is one an override set, so the message points where the bad
/// value was written rather than at the model file; otherwise `e` as it is.
pub fn blame(
    file: &str,
    overrides: &[Override],
    sources: &[String],
    e: ConfigError,
) -> ConfigError {
    let (key, rule, model) = match &e {
        ConfigError::Invalid { file, key, rule } => (key.as_str(), rule.as_str(), file.as_str()),
        ConfigError::Parse { file, msg, .. } => match msg.split_once(": ") {
            Some((key, rule)) => (key, rule, file.as_str()),
            None => return e,
        },
    };
    let culprit = overrides.iter().zip(sources).find(|(o, _)| {
        let k = o.key();
        key == k || key.starts_with(&format!("{k}.")) || k.starts_with(&format!("{key}."))
    });
    match culprit {
        Some((o, source)) => ConfigError::invalid(
            file,
            source.clone(),
            format!("{key}: {rule} (in the variant of {model} it gives, {o})"),
        ),
        None => e,
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
}
