//! Text in, validated parameters out: the only module that knows file formats. It never
//! touches the filesystem: every function takes a file's name (for its messages) and its text,
//! and the runner reads the files.
//!
//! Loading is in two stages: TOML parses into raw serde structs that reject unknown keys, then
//! each raw struct is validated into the model's parameter types. Every error names the file,
//! the key and the rule it broke (and the line, where TOML gives one).

pub mod calibration;
pub mod dist;
pub mod experiment;
pub mod model;
pub mod plan;
pub mod workload;

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the expected shape.
    #[error("{file}{}: {msg}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What the parser said.
        msg: String,
    },
    /// A value breaks a rule.
    #[error("{file}: {key}: {rule}")]
    Invalid {
        /// The file.
        file: String,
        /// The dotted key.
        key: String,
        /// The rule and the offending value.
        rule: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `key` in `file`.
    pub fn invalid(file: &str, key: impl Into<String>, rule: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_string(),
            key: key.into(),
            rule: rule.into(),
        }
    }
}

/// The number a TOML value holds, integer or float.
pub fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// The table that holds a dotted key's last part, with that part: `("cpu.rbac_us")` gives the
/// `[cpu]` table and `"rbac_us"`.
pub fn parent_of<'a>(table: &'a toml::Table, key: &'a str) -> Option<(&'a toml::Table, &'a str)> {
    let mut parts = key.split('.');
    let last = parts.next_back()?;
    let mut cur = table;
    for p in parts {
        cur = cur.get(p)?.as_table()?;
    }
    Some((cur, last))
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
}

/// Edit distance between two keys (Levenshtein), for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Improves serde's "unknown field `x`, expected one of `a`, `b`" with the nearest valid key
/// and, when the line is known, the table it sits in.
pub(crate) fn explain_unknown(msg: &str, text: &str, line: Option<usize>) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((bad, expected)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let mut out = msg.to_string();
    if let Some(l) = line {
        let table = text
            .lines()
            .take(l)
            .filter_map(|x| {
                x.trim()
                    .strip_prefix('[')
                    .map(|t| t.trim_matches(|c| c == '[' || c == ']'))
            })
            .last();
        if let Some(t) = table {
            out = format!("in [{t}]: {out}");
        }
    }
    if let Some((best, d)) = keys
        .iter()
        .map(|k| (*k, distance(bad, k)))
        .min_by_key(|x| x.1)
    {
        if d <= (bad.len() / 3).max(2) {
            out.push_str(&format!("; did you mean `{best}`?"));
        }
    }
    out
}

/// Parses `text` (from `file`) into `T`, after applying `overrides` (`dotted.key=value`).
pub fn parse_with_overrides<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    overrides: &[String],
) -> Result<T, ConfigError> {
    let parse_err = |e: toml::de::Error, text: &str| {
        let line = line_of(text, e.span());
        ConfigError::Parse {
            file: file.to_string(),
            line,
            msg: explain_unknown(e.message().trim(), text, line),
        }
    };
    if overrides.is_empty() {
        return toml::from_str(text).map_err(|e| parse_err(e, text));
    }
    let mut table: toml::Table = toml::from_str(text).map_err(|e| parse_err(e, text))?;
    for o in overrides {
        apply_override(file, &mut table, o)?;
    }
    T::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
        file: format!("{file} (with --set overrides)"),
        line: None,
        msg: explain_unknown(e.message().trim(), "", None),
    })
}

/// Sets `a.b.c=value` in `table`; the value is read as TOML (`8`, `1.5`, `true`, `"x"`,
/// `{ kind = "exponential", mean = 20 }`) or else taken as a bare string.
pub fn apply_override(file: &str, table: &mut toml::Table, o: &str) -> Result<(), ConfigError> {
    let Some((path, raw)) = o.split_once('=') else {
        return Err(ConfigError::invalid(
            file,
            o,
            "an override must look like key.path=value",
        ));
    };
    let path = path.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {}", raw.trim()))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let keys: Vec<&str> = path.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(ConfigError::invalid(
            file,
            path,
            "an override key has an empty part",
        ));
    }
    let mut cur = table;
    for k in &keys[..keys.len() - 1] {
        let entry = cur
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => {
                return Err(ConfigError::invalid(
                    file,
                    path,
                    format!("`{k}` is not a table"),
                ));
            }
        };
    }
    let last = keys[keys.len() - 1];
    // A key that holds a string keeps a string: `--set etcd_version=3.2` means "3.2", not 3.2.
    let value = match (cur.get(last), value) {
        (Some(toml::Value::String(_)), v) if !v.is_str() => {
            toml::Value::String(raw.trim().to_string())
        }
        (_, v) => v,
    };
    cur.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_set_nested_values_and_parse_toml_literals() {
        let mut t: toml::Table = toml::from_str("[a]\nb = 1\n").unwrap();
        apply_override("f", &mut t, "a.b=2.5").unwrap();
        apply_override("f", &mut t, "a.c.d=hello").unwrap();
        apply_override("f", &mut t, "e={ kind = \"constant\", value = 3 }").unwrap();
        assert_eq!(t["a"]["b"].as_float(), Some(2.5));
        assert_eq!(t["a"]["c"]["d"].as_str(), Some("hello"));
        assert_eq!(t["e"]["kind"].as_str(), Some("constant"));
        let e = apply_override("f", &mut t, "a.b.x=1").unwrap_err();
        assert!(e.to_string().contains("`b` is not a table"), "{e}");
        assert!(apply_override("f", &mut t, "novalue").is_err());
    }

    #[test]
    fn unknown_keys_get_the_table_and_the_nearest_valid_key() {
        let text = "[member]\ncores = 8\nnic_bandwith_gbps = 10\n";
        let msg = "unknown field `nic_bandwith_gbps`, expected `cores` or `nic_bandwidth_gbps`";
        let out = explain_unknown(msg, text, Some(3));
        assert!(out.starts_with("in [member]: unknown field"), "{out}");
        assert!(out.ends_with("did you mean `nic_bandwidth_gbps`?"), "{out}");
        // Nothing close: no suggestion.
        let out = explain_unknown("unknown field `zzzzzzzz`, expected `cores`", "", None);
        assert!(!out.contains("did you mean"), "{out}");
        assert_eq!(distance("votrs", "voters"), 1);
    }

    #[test]
    fn parse_errors_carry_the_line() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            a: u32,
        }
        let e = parse_with_overrides::<S>("x.toml", "a = 1\nb = 2\n", &[]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x.toml:2:"), "{msg}");
        assert!(msg.contains("unknown field `b`"), "{msg}");
    }
}
