//! Typed rows for every output table. A row type names its columns once, in
//! [`Row::columns`], handing each its cell: that one walk gives the header, the cells of a row
//! and the parsing of a row read back, so the three cannot drift apart. Columns that depend on
//! the input (grid axes, a cluster's resources) are typed lists inside the row, named from the
//! same list their cells come from.
//!
//! The csv crate's serde support cannot name such columns (it writes a header only for flat
//! structs of scalars), hence this small trait instead of `#[derive(Serialize)]`.
//!
//! An absent metric (the write latency of a run without writes) is NaN in memory and an empty
//! cell in the file, never 0.

use std::fmt::Write as _;

/// One cell: how it is written, and read back.
pub trait Cell {
    /// The cell's text.
    fn write(&self, out: &mut String);
    /// Sets the cell from its text.
    fn read(&mut self, text: &str) -> Result<(), String>;
    /// Whether a Markdown table right-aligns it.
    fn numeric(&self) -> bool {
        true
    }
    /// Whether it is a yes/no column (`1` or `0` in a file; a boolean in JSON).
    fn boolean(&self) -> bool {
        false
    }
}

/// What a row hands each of its columns to.
pub trait Columns {
    /// Column `name`, holding `cell`.
    fn col(&mut self, name: &str, cell: &mut dyn Cell);
}

/// A row of an output table.
pub trait Row: Clone {
    /// Hands `c` each column in order: its name and its cell.
    fn columns(&mut self, c: &mut dyn Columns);
}

/// A number written with `D` decimals, or empty when absent (NaN) or infinite. It holds the
/// value as written (rounded on construction), so a row in memory and the same row read back
/// from its file are equal, and anything computed from rows is the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Fixed<const D: usize>(pub f64);

impl<const D: usize> Fixed<D> {
    /// `x` as written with `D` decimals.
    pub fn new(x: f64) -> Self {
        if !x.is_finite() {
            return Fixed(x);
        }
        // Through the text itself: exactly what reading the file back gives.
        Fixed(format!("{x:.D$}").parse().unwrap_or(x))
    }

    /// Absent: an empty cell.
    pub const ABSENT: Self = Fixed(f64::NAN);

    /// `x` if `present`, else absent.
    pub fn present_if(present: bool, x: f64) -> Self {
        if present { Fixed::new(x) } else { Self::ABSENT }
    }
}

impl<const D: usize> Cell for Fixed<D> {
    fn write(&self, out: &mut String) {
        if self.0.is_finite() {
            let _ = write!(out, "{:.D$}", self.0);
        }
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        self.0 = if text.is_empty() {
            f64::NAN
        } else {
            finite(text)?
        };
        Ok(())
    }
}

/// A finite number from `text`: what a number cell holds ("NaN" and "inf" parse as floats but
/// are never written, so a file holding them was not written by etcdsim).
fn finite(text: &str) -> Result<f64, String> {
    text.parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("{text:?} is not a number"))
}

/// A number written as Rust prints it, as short as it reads back (`3`, `6.6`, `0.2`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shortest(pub f64);

impl Cell for Shortest {
    fn write(&self, out: &mut String) {
        let _ = write!(out, "{}", self.0);
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        self.0 = finite(text)?;
        Ok(())
    }
}

/// A 64-bit hash written as 16 hexadecimal digits (`config_hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hex(pub u64);

impl Cell for Hex {
    fn write(&self, out: &mut String) {
        let _ = write!(out, "{:016x}", self.0);
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        self.0 = u64::from_str_radix(text, 16)
            .ok()
            .filter(|_| text.len() == 16)
            .ok_or_else(|| format!("{text:?} is not 16 hexadecimal digits"))?;
        Ok(())
    }
    fn numeric(&self) -> bool {
        false
    }
}

/// A relative change written as a signed percentage with one decimal (`+1.7%`); for reports
/// read by people, not read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl Cell for Percent {
    fn write(&self, out: &mut String) {
        let _ = write!(out, "{:+.1}%", self.0 * 100.0);
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        Err(format!("{text:?}: a percentage is not read back"))
    }
}

macro_rules! integer_cell {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn write(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
            fn read(&mut self, text: &str) -> Result<(), String> {
                *self = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
                Ok(())
            }
        }
    )*};
}
integer_cell!(u64, usize);

/// A yes/no column: `1` or `0`.
impl Cell for bool {
    fn write(&self, out: &mut String) {
        out.push(if *self { '1' } else { '0' });
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        *self = match text {
            "1" => true,
            "0" => false,
            _ => return Err(format!("{text:?} is not 0 or 1")),
        };
        Ok(())
    }
    fn boolean(&self) -> bool {
        true
    }
}

impl Cell for String {
    fn write(&self, out: &mut String) {
        out.push_str(self);
    }
    fn read(&mut self, text: &str) -> Result<(), String> {
        text.clone_into(self);
        Ok(())
    }
    fn numeric(&self) -> bool {
        false
    }
}

/// Collects the column names.
struct Names(Vec<String>);

impl Columns for Names {
    fn col(&mut self, name: &str, _: &mut dyn Cell) {
        self.0.push(name.to_string());
    }
}

/// Collects the cells' text, and whether each is numeric.
struct Texts(Vec<(String, bool)>);

impl Columns for Texts {
    fn col(&mut self, _: &str, cell: &mut dyn Cell) {
        let mut s = String::new();
        cell.write(&mut s);
        self.0.push((s, cell.numeric()));
    }
}

/// Sets each cell from the next field.
struct Fields<'a> {
    fields: std::slice::Iter<'a, String>,
    error: Option<String>,
}

impl Columns for Fields<'_> {
    fn col(&mut self, name: &str, cell: &mut dyn Cell) {
        if self.error.is_some() {
            return;
        }
        self.error = match self.fields.next() {
            Some(text) => cell.read(text).err().map(|e| format!("{name}: {e}")),
            None => Some(format!("{name}: missing")),
        };
    }
}

/// The column names of rows shaped like `row`.
pub fn header<R: Row>(row: &R) -> Vec<String> {
    let mut names = Names(Vec::new());
    row.clone().columns(&mut names);
    names.0
}

/// The cells of `row`, as written.
pub fn cells<R: Row>(row: &R) -> Vec<String> {
    texts(row).into_iter().map(|t| t.0).collect()
}

fn texts<R: Row>(row: &R) -> Vec<(String, bool)> {
    let mut t = Texts(Vec::new());
    row.clone().columns(&mut t);
    t.0
}

/// A row read from `fields`, shaped like `template` (its lists' lengths and names).
pub fn parse<R: Row>(template: &R, fields: &[String]) -> Result<R, String> {
    let mut row = template.clone();
    let mut f = Fields {
        fields: fields.iter(),
        error: None,
    };
    row.columns(&mut f);
    match (f.error, f.fields.len()) {
        (Some(e), _) => Err(e),
        (None, 0) => Ok(row),
        (None, n) => Err(format!("{n} fields too many")),
    }
}

/// Why a table could not be read back.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The header is not that of the expected rows: another configuration wrote the file.
    /// Holds the first column that differs, as (expected, found).
    Columns(String, String),
    /// A line does not read as a row: its 1-based line number and why.
    Row(u64, String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Columns(want, got) => write!(
                f,
                "its columns are not this experiment's (expected {want:?}, found {got:?})"
            ),
            ReadError::Row(line, why) => write!(f, "line {line}: {why}"),
        }
    }
}

/// The rows of a CSV table shaped like `template`, from `text` (lines starting with `#` are
/// comments), each with its 1-based line number. Every record must read as a row. With
/// `torn_tail`, a last line without its newline (a process killed mid-write) is dropped
/// instead: it was never a finished row.
pub fn read_csv<R: Row>(
    template: &R,
    text: &str,
    torn_tail: bool,
) -> Result<Vec<(u64, R)>, ReadError> {
    let text = match text.rfind('\n') {
        Some(end) if torn_tail => &text[..=end],
        None if torn_tail => "",
        _ => text,
    };
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let want = header(template);
    let got: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(String::from).collect(),
        Err(e) => return Err(ReadError::Row(1, e.to_string())),
    };
    if got != want {
        let at = (0..want.len().max(got.len()))
            .find(|&i| want.get(i) != got.get(i))
            .unwrap_or(0);
        let name = |v: &[String]| v.get(at).cloned().unwrap_or_else(|| "(none)".into());
        return Err(ReadError::Columns(name(&want), name(&got)));
    }
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            ReadError::Row(line, e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let fields: Vec<String> = rec.iter().map(String::from).collect();
        let row = parse(template, &fields).map_err(|e| ReadError::Row(line, e))?;
        rows.push((line, row));
    }
    Ok(rows)
}

/// One CSV record, quoted as the csv crate quotes.
pub fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

/// A CSV table: the header of `template`'s shape (any row of a type without lists, such as its
/// default), then `rows`.
pub fn csv<R: Row>(template: &R, rows: &[R]) -> Vec<u8> {
    let mut bytes = csv_line(&header(template));
    for r in rows {
        bytes.extend(csv_line(&cells(r)));
    }
    bytes
}

/// A Markdown table of `rows` (at least one): numbers right-aligned, text left.
pub fn markdown<R: Row>(rows: &[R]) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(header(first));
    let align = texts(first)
        .iter()
        .map(|(_, numeric)| if *numeric { "---:" } else { "---" })
        .collect::<Vec<_>>();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for r in rows {
        out.push_str(&line(cells(r)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row with a list of columns named from its entries.
    #[derive(Debug, Clone, PartialEq)]
    struct T {
        name: String,
        n: u64,
        ok: bool,
        per: Vec<(String, Fixed<2>)>,
    }

    impl Row for T {
        fn columns(&mut self, c: &mut dyn Columns) {
            c.col("name", &mut self.name);
            c.col("n", &mut self.n);
            c.col("ok", &mut self.ok);
            for (k, v) in &mut self.per {
                c.col(&format!("x_{k}_ms"), v);
            }
        }
    }

    fn t(x: f64) -> T {
        T {
            name: "a,b".into(),
            n: 7,
            ok: true,
            per: vec![("p".into(), Fixed::new(x)), ("q".into(), Fixed::ABSENT)],
        }
    }

    #[test]
    fn the_header_and_the_cells_come_from_one_walk_and_read_back() {
        let row = t(1.234_567);
        assert_eq!(header(&row), ["name", "n", "ok", "x_p_ms", "x_q_ms"]);
        assert_eq!(cells(&row), ["a,b", "7", "1", "1.23", ""]);
        assert_eq!(
            String::from_utf8(csv(&row, std::slice::from_ref(&row))).unwrap(),
            "name,n,ok,x_p_ms,x_q_ms\n\"a,b\",7,1,1.23,\n"
        );
        let back = parse(&t(0.0), &cells(&row)).unwrap();
        // Rounded as written, so equal but for the absent cell (NaN is not equal to itself).
        assert_eq!(back.per[0].1, Fixed(1.23));
        assert!(back.per[1].1.0.is_nan());
        assert_eq!((&back.name, back.n, back.ok), (&row.name, row.n, row.ok));
        assert!(parse(&t(0.0), &cells(&row)[..4]).is_err());
        let mut bad = cells(&row);
        bad[1] = "x".into();
        assert_eq!(
            parse(&t(0.0), &bad).unwrap_err(),
            "n: \"x\" is not a whole number"
        );
        // Read back from a file: comments skipped; a half-written last line is dropped where
        // that is allowed (a journal), and refused elsewhere.
        let two = csv(&row, &[row.clone(), row.clone()]);
        let mut text = format!("# comment\n{}", String::from_utf8(two).unwrap());
        assert_eq!(read_csv(&t(0.0), &text, false).unwrap()[1].0, 4);
        text.truncate(text.len() - 4);
        assert_eq!(read_csv(&t(0.0), &text, true).unwrap().len(), 1);
        assert_eq!(
            read_csv(&t(0.0), &text, false).unwrap_err(),
            ReadError::Row(4, "x_q_ms: missing".into())
        );
        assert_eq!(
            read_csv(&t(0.0), "name,n\n", false),
            Err(ReadError::Columns("ok".into(), "(none)".into()))
        );
        // A cell of the wrong type is refused with its line and column.
        let bad = "name,n,ok,x_p_ms,x_q_ms\na,7,1,NaN,\n";
        assert_eq!(
            read_csv(&t(0.0), bad, false).unwrap_err().to_string(),
            "line 2: x_p_ms: \"NaN\" is not a number"
        );
    }

    #[test]
    fn markdown_aligns_numbers_right() {
        let md = markdown(&[t(2.0)]);
        assert_eq!(
            md,
            "| name | n | ok | x_p_ms | x_q_ms |\n|---|---:|---:|---:|---:|\n| a,b | 7 | 1 | 2.00 |  |\n"
        );
        let mut s = String::new();
        Percent(0.0171).write(&mut s);
        Shortest(6.6).write(&mut s);
        assert_eq!(s, "+1.7%6.6");
    }
}
