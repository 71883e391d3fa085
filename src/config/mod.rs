//! Text in, validated parameters out: the only module that knows file formats. It never
//! touches the filesystem: every function takes a file's name (for its messages) and its text,
//! and the runner reads the files.
//!
//! Loading is in two stages: TOML parses into raw serde structs that reject unknown keys, then
//! each raw struct is validated into the model's parameter types. Every error names the file,
//! the key and the rule it broke (and the line, where TOML gives one).

pub mod benchmark_output;
pub mod calibration;
pub mod dist;
pub mod experiment;
pub mod fault_intervals;
pub mod limits;
pub mod messages;
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
    /// The same error, its key (or, for a parse error, its message) placed inside `within`: a
    /// table built from parts of a file names where its part came from.
    pub fn within(self, within: &str) -> ConfigError {
        match self {
            ConfigError::Invalid { file, key, rule } => ConfigError::Invalid {
                file,
                key: format!("{within}: {key}"),
                rule,
            },
            ConfigError::Parse { file, line, msg } => ConfigError::Parse {
                file,
                line,
                msg: format!("{within}: {msg}"),
            },
        }
    }

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

/// A parse error of `text` at `span`: its line, the key path there, and the rule in plain
/// words (serde's message translated; an unknown key with the nearest valid one).
fn located(file: &str, text: &str, span: Option<std::ops::Range<usize>>, msg: &str) -> ConfigError {
    let line = span.as_ref().map(|s| messages::line_at(text, s.start));
    let key = span.as_ref().and_then(|s| messages::key_at(text, s.start));
    let given = span.and_then(|s| text.get(s));
    ConfigError::Parse {
        file: file.to_string(),
        line,
        msg: rule_at(key.as_deref(), msg, given),
    }
}

/// `msg` in plain words, after the key path it concerns (for an unknown key, the table that
/// holds it), with the value `given` where the words do not already quote it.
fn rule_at(key: Option<&str>, msg: &str, given: Option<&str>) -> String {
    let (key, mut rule) = match messages::unknown_key(msg) {
        Some(rule) => (key.map(parent_path), rule),
        None => (key.map(String::from), messages::plain_words(msg)),
    };
    let quoted = rule.contains("(got") || rule.contains(", not ") || rule.contains("unknown key");
    if let Some(v) = given
        .map(str::trim)
        .filter(|v| !quoted && !v.is_empty() && !v.contains('\n'))
    {
        let v: String = v.chars().take(80).collect();
        rule.push_str(&format!(" (got {v})"));
    }
    match key.filter(|k| !k.is_empty()) {
        Some(k) => format!("{k}: {rule}"),
        None => rule,
    }
}

/// `a.b."c.d"` without its last part: `a.b`.
fn parent_path(path: &str) -> String {
    let mut quoted = false;
    let mut cut = 0;
    for (i, c) in path.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => cut = i,
            _ => {}
        }
    }
    path[..cut].to_string()
}

/// Parses `text` (from `file`) into `T`; an error gives the line, the key path and the rule in
/// plain words.
pub fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| located(file, text, e.span(), e.message()))
}

/// Reads `table`, built in memory (a file's table with overrides or grid values), into `T`;
/// `file` names the source and `prefix` the table's own key path (`workload`). An in-memory
/// table has no spans, so an error's key path is found by writing the table out as TOML and
/// parsing that; no line is given, since that text is not the file's.
pub fn from_table<T: serde::de::DeserializeOwned>(
    file: &str,
    table: toml::Table,
    prefix: &str,
) -> Result<T, ConfigError> {
    let direct = match T::deserialize(toml::Value::Table(table.clone())) {
        Ok(v) => return Ok(v),
        Err(e) => e.message().to_string(),
    };
    let text = toml::to_string(&table).unwrap_or_default();
    let (key, msg) = match toml::from_str::<T>(&text) {
        Err(e) => (
            e.span().and_then(|s| messages::key_at(&text, s.start)),
            e.message().to_string(),
        ),
        Ok(_) => (None, direct),
    };
    // The value as one inline literal, not as the written-out text has it.
    let given = key
        .as_deref()
        .and_then(|k| messages::value_at(&table, k))
        .map(|v| v.to_string());
    let key = match (prefix, key) {
        ("", k) => k,
        (p, Some(k)) => Some(format!("{p}.{k}")),
        (p, None) => Some(p.to_string()),
    };
    Err(ConfigError::Parse {
        file: file.to_string(),
        line: None,
        msg: rule_at(key.as_deref(), &msg, given.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct S {
        a: u32,
        t: Option<T>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        cores: u8,
        nic_bandwidth_gbps: f64,
    }

    #[test]
    fn parse_errors_carry_the_line_the_key_and_a_plain_rule() {
        let e = parse::<S>("x.toml", "a = 1\nb = 2\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.toml:2: unknown key `b` (valid keys: a, t)");
        let text = "a = 1\n[t]\ncores = 8\nnic_bandwith_gbps = 10\n";
        let e = parse::<S>("x.toml", text).unwrap_err().to_string();
        assert_eq!(
            e,
            "x.toml:4: t: unknown key `nic_bandwith_gbps`; did you mean `nic_bandwidth_gbps`?"
        );
        let e = parse::<S>("x.toml", "a = \"x\"\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.toml:1: a: must be a whole number from 0 to 4294967295, not the text \"x\""
        );
        let e = parse::<S>(
            "x.toml",
            "a = 1\n[t]\ncores = 300\nnic_bandwidth_gbps = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "x.toml:3: t.cores: must be a whole number from 0 to 255 (got 300)"
        );
    }

    #[test]
    fn an_in_memory_table_names_the_key_without_a_line() {
        let t: toml::Table =
            toml::from_str("a = 1\n[t]\ncores = -1\nnic_bandwidth_gbps = 1\n").unwrap();
        let e = from_table::<S>("e.toml (point 2)", t, "workload")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "e.toml (point 2): workload.t.cores: must be a whole number from 0 to 255 (got -1)"
        );
        assert_eq!(parent_path("grid.\"model.x\".y"), "grid.\"model.x\"");
    }
}
