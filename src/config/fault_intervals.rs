//! The real-etcd harness's per-interval CSV of its fault cases (`harness/measure` on
//! `harness/grids/faults.toml`, `*-intervals.csv`; columns: `harness/README.md`): the columns
//! `etcdsim validation` sets beside the model's intervals, as typed rows.

use super::ConfigError;

/// One interval of one repetition of a harness fault case.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredInterval {
    /// The case (`f-leader-pause`).
    pub case: String,
    /// The repetition, from 1.
    pub rep: u32,
    /// The interval's start, in seconds from the start of the measured window.
    pub t_start_s: f64,
    /// Reads completed in it.
    pub reads: u64,
}

/// Reads the intervals CSV `text` (`#` lines are comments); `file` names it in errors, which
/// give the line and the column.
pub fn parse_intervals(file: &str, text: &str) -> Result<Vec<MeasuredInterval>, ConfigError> {
    let bad = |line: u64, msg: String| ConfigError::Parse {
        file: file.to_string(),
        line: Some(line as usize),
        msg,
    };
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = rd.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| ConfigError::Parse {
            file: file.to_string(),
            line: None,
            msg: format!("no column `{name}` (a harness intervals CSV has case, rep, t_start_s and reads)"),
        })
    };
    let (case, rep, start, reads) = (
        column("case")?,
        column("rep")?,
        column("t_start_s")?,
        column("reads")?,
    );
    let mut out = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |i: usize, name: &str| {
            rec.get(i)
                .ok_or_else(|| bad(line, format!("column `{name}` is missing")))
        };
        let whole = |i: usize, name: &str| {
            let s = cell(i, name)?;
            s.parse::<u64>().map_err(|_| {
                bad(
                    line,
                    format!("column `{name}`: must be a whole number >= 0 (got {s:?})"),
                )
            })
        };
        let t = cell(start, "t_start_s")?;
        let t_start_s = t
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| {
                bad(
                    line,
                    format!("column `t_start_s`: must be a number >= 0 (got {t:?})"),
                )
            })?;
        out.push(MeasuredInterval {
            case: cell(case, "case")?.to_string(),
            rep: u32::try_from(whole(rep, "rep")?)
                .map_err(|_| bad(line, "column `rep`: too large".to_string()))?,
            t_start_s,
            reads: whole(reads, "reads")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "# etcdsim real-etcd measurements\ncase,rep,t_start_s,t_end_s,reads\nf-a,1,0.000,0.100,1425\nf-a,2,0.100,0.200,14\n";

    #[test]
    fn reads_typed_rows_past_comments() {
        let rows = parse_intervals("i.csv", CSV).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            MeasuredInterval {
                case: "f-a".into(),
                rep: 2,
                t_start_s: 0.1,
                reads: 14
            }
        );
    }

    #[test]
    fn a_bad_cell_names_the_file_the_line_and_the_column() {
        let e = parse_intervals("i.csv", &CSV.replace("1425", "lots"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "i.csv:3: column `reads`: must be a whole number >= 0 (got \"lots\")"
        );
        let e = parse_intervals("i.csv", &CSV.replace(",reads", ",read"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("i.csv: no column `reads`"), "{e}");
    }
}
