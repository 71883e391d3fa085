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
pub mod limits;
pub mod model;
pub mod plan;
pub mod variant;
pub mod workload;

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
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
pub fn parent_of<'a, 'k>(
    table: &'a toml::Table,
    key: &'k str,
) -> Option<(&'a toml::Table, &'k str)> {
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

/// Parses `text` (from `file`) into `T`; an error gives the line and, for an unknown key, the
/// table it sits in and the nearest valid key.
pub fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = line_of(text, e.span());
        ConfigError::Parse {
            file: file.to_string(),
            line,
            msg: explain_unknown(e.message().trim(), text, line),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = parse::<S>("x.toml", "a = 1\nb = 2\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x.toml:2:"), "{msg}");
        assert!(msg.contains("unknown field `b`"), "{msg}");
    }
}
