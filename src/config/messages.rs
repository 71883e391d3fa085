//! The words of a file error: where it is (the dotted key path, from the parser's byte span)
//! and what rule it breaks, in plain words instead of serde's ("untagged enum Cost",
//! "expected u32", "struct ClusterSection"), with the value given and the nearest valid key.

use std::ops::Range;

use toml_edit::{Item, Value};

/// Every key of `text` with the span from its key to the end of its value (a `[table]` with
/// its header's span), as dotted paths: `cluster.voters`, `grid."model.cluster.voters"`,
/// `candidates[1].set."member.cores"`. Empty if `text` is not TOML.
fn key_spans(text: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    if let Ok(doc) = toml_edit::Document::parse(text) {
        walk(doc.as_item(), "", &mut out);
    }
    out
}

/// `path.key`, the key quoted unless it is bare (`grid."model.cluster.voters"`).
pub fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

fn walk(item: &Item, path: &str, out: &mut Vec<(String, Range<usize>)>) {
    match item {
        Item::Table(t) => {
            if let (Some(span), false) = (t.span(), path.is_empty()) {
                out.push((path.to_string(), span));
            }
            for (k, v) in t.iter() {
                let key_span = t.get_key_value(k).and_then(|(key, _)| key.span());
                entry(path, k, key_span, v, out);
            }
        }
        Item::Value(Value::InlineTable(t)) => {
            for (k, v) in t.iter() {
                let key_span = t.get_key_value(k).and_then(|(key, _)| key.span());
                entry(path, k, key_span, &Item::Value(v.clone()), out);
            }
        }
        Item::Value(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if let Some(span) = v.span() {
                    out.push((p.clone(), span));
                }
                walk(&Item::Value(v.clone()), &p, out);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                walk(&Item::Table(t.clone()), &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn entry(
    path: &str,
    k: &str,
    key_span: Option<Range<usize>>,
    v: &Item,
    out: &mut Vec<(String, Range<usize>)>,
) {
    let p = join(path, k);
    let value_span = v.span();
    let span = match (key_span, value_span.clone()) {
        (Some(a), Some(b)) => a.start.min(b.start)..a.end.max(b.end),
        (a, b) => match a.or(b) {
            Some(s) => s,
            None => return walk(v, &p, out),
        },
    };
    // A [table] is pushed by its walk, with its header's span.
    if !matches!(v, Item::Table(_) | Item::ArrayOfTables(_)) {
        out.push((p.clone(), span));
    }
    walk(v, &p, out);
}

/// The dotted key path at byte `at` of `text`: the innermost key whose span holds it.
pub fn key_at(text: &str, at: usize) -> Option<String> {
    key_spans(text)
        .into_iter()
        .filter(|(_, s)| s.start <= at && at < s.end.max(s.start + 1))
        .max_by_key(|(p, s)| (s.start, p.len()))
        .map(|(p, _)| p)
}

/// The value at the dotted key path `path` (as [`key_at`] writes it) of `table`.
pub fn value_at<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted) = (String::new(), false);
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let mut value: Option<&toml::Value> = None;
    for part in parts {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n.to_string(), i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let here = match value {
            None => table.get(&name),
            Some(v) => v.as_table()?.get(&name),
        }?;
        value = Some(match index {
            Some(i) => here.as_array()?.get(i)?,
            None => here,
        });
    }
    value
}

/// The 1-based line of the key at `path` in `text`.
pub fn line_of_key(text: &str, path: &str) -> Option<usize> {
    key_spans(text)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, s)| line_at(text, s.start))
}

/// The 1-based line of byte `at`.
pub fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Edit distance between two keys (Levenshtein), for suggestions.
pub fn distance(a: &str, b: &str) -> usize {
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

/// The valid key nearest to `bad`, if it is near enough to be what was meant.
pub fn nearest<'a>(bad: &str, keys: &[&'a str]) -> Option<&'a str> {
    keys.iter()
        .map(|k| (*k, distance(bad, k)))
        .min_by_key(|x| x.1)
        .filter(|(_, d)| *d <= (bad.len() / 3).max(2) && *d < bad.chars().count())
        .map(|(k, _)| k)
}

/// What a type in serde's words means, as a rule: "u32" is "a whole number from 0 to
/// 4294967295".
fn expected(what: &str) -> String {
    let what = what
        .trim()
        .trim_start_matches("a ")
        .trim_start_matches("an ");
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    match what {
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        // TOML's integers end at i64's.
        "u64" | "usize" => whole("9223372036854775807"),
        "i64" | "i32" | "integer" => "a whole number".into(),
        "f64" | "f32" | "float" => "a number".into(),
        "boolean" | "bool" => "true or false".into(),
        "string" | "str" => "text in quotes".into(),
        "sequence" | "array" => "a list [ ... ]".into(),
        "map" | "table" => "a table { ... }".into(),
        w if w.starts_with("struct ") => "a table of keys".into(),
        w if w.starts_with("enum ") => "one of its named values".into(),
        w => w.to_string(),
    }
}

/// What a value in serde's words is: "string \"x\"" is the text "x", "integer `-1`" is -1.
fn given(what: &str) -> String {
    let what = what.trim();
    let inner = |p: &str| {
        what.strip_prefix(p)
            .map(|v| v.trim_matches('`').to_string())
    };
    if let Some(v) = inner("string ") {
        return format!("the text {v}");
    }
    for p in ["integer ", "floating point ", "boolean "] {
        if let Some(v) = inner(p) {
            return v;
        }
    }
    match what {
        "map" => "a table".into(),
        "sequence" => "a list".into(),
        w => w.to_string(),
    }
}

/// serde's message `msg` as a rule in plain words, with the value given.
pub fn plain_words(msg: &str) -> String {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return format!("must be {}, not {}", expected(want), given(got));
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return format!("must be {} (got {})", expected(want), given(got));
        }
    }
    if let Some(rest) = msg.strip_prefix("data did not match any variant of untagged enum ") {
        return match rest.trim() {
            "Cost" => "must be a number, or a distribution table such as { kind = \"exponential\", mean = 20 }".into(),
            other => format!("is not a valid {other}"),
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return format!("the required key {rest} is missing");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        if let Some((bad, want)) = rest.split_once(", expected ") {
            let names: Vec<&str> = want.split('`').skip(1).step_by(2).collect();
            let hint = nearest(bad.trim_matches('`'), &names)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            return format!("must be one of {} (got {bad}){hint}", names.join(", "));
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        return format!("has the wrong number of values ({rest})");
    }
    msg.to_string()
}

/// serde's "unknown field `x`, expected one of `a`, `b`" as a rule: the key is unknown, and
/// the nearest valid key, or else the valid keys.
pub fn unknown_key(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (bad, expected) = rest.split_once('`')?;
    let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    Some(match nearest(bad, &keys) {
        Some(k) => format!("unknown key `{bad}`; did you mean `{k}`?"),
        None if keys.is_empty() => format!("unknown key `{bad}`: this table takes no keys"),
        None => format!("unknown key `{bad}` (valid keys: {})", keys.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_words_become_rules() {
        assert_eq!(
            plain_words("invalid type: string \"x\", expected u32"),
            "must be a whole number from 0 to 4294967295, not the text \"x\""
        );
        assert_eq!(
            plain_words("invalid value: integer `-1`, expected u32"),
            "must be a whole number from 0 to 4294967295 (got -1)"
        );
        assert_eq!(
            plain_words("invalid type: integer `3`, expected struct ClusterSection"),
            "must be a table of keys, not 3"
        );
        assert!(
            plain_words("data did not match any variant of untagged enum Cost")
                .starts_with("must be a number, or a distribution table")
        );
        assert_eq!(
            plain_words("missing field `voters`"),
            "the required key `voters` is missing"
        );
        assert_eq!(
            plain_words("unknown variant `exponental`, expected one of `constant`, `exponential`"),
            "must be one of constant, exponential (got `exponental`); did you mean `exponential`?"
        );
        assert_eq!(
            unknown_key("unknown field `votrs`, expected `voters` or `learners`").unwrap(),
            "unknown key `votrs`; did you mean `voters`?"
        );
        assert_eq!(distance("votrs", "voters"), 1);
    }

    #[test]
    fn a_byte_gives_its_key_path() {
        let text = "a = 1\n[cluster]\nvoters = \"x\"\n[grid]\n\"model.m.k\" = [1, 2]\n[[c]]\nset = { \"x.y\" = 3 }\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(key_at(text, at("\"x\"")).as_deref(), Some("cluster.voters"));
        assert_eq!(
            key_at(text, at("2]")).as_deref(),
            Some("grid.\"model.m.k\"[1]")
        );
        assert_eq!(key_at(text, at("3 }")).as_deref(), Some("c[0].set.\"x.y\""));
        assert_eq!(key_at(text, 0).as_deref(), Some("a"));
        assert_eq!(line_of_key(text, "grid.\"model.m.k\""), Some(5));
        assert_eq!(line_of_key(text, "cluster"), Some(2));
        let table: toml::Table = toml::from_str(text).unwrap();
        let at = |p: &str| value_at(&table, p).map(|v| v.to_string());
        assert_eq!(at("grid.\"model.m.k\"[1]").as_deref(), Some("2"));
        assert_eq!(at("c[0].set.\"x.y\"").as_deref(), Some("3"));
    }
}
