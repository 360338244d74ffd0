//! JSON as the CLI writes it: serde_json's pretty layout (two-space indent, one value a line),
//! except that an array of numbers stays on one line. Impact reports refer to shared entries,
//! paths and actions by index, and one index a line would make up most of their bytes.

use std::io::{self, Write};

use serde_json::ser::{CompactFormatter, Formatter, Serializer};

/// Writes `value` to `out` in the CLI's layout.
pub fn to_writer<W: Write, T: serde::Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut serializer = Serializer::with_formatter(out, Layout::default());
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// How an open array is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Array {
    /// No value yet.
    #[default]
    Empty,
    /// Numbers on one line.
    Inline,
    /// One value a line.
    Lines,
}

/// Inside an array, a value that has begun but whose separator is not written yet: it depends
/// on whether the value is a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    /// No value pending (or not in an array).
    #[default]
    None,
    /// The array's first value.
    First,
    /// A value after the first.
    Rest,
}

#[derive(Debug, Default)]
struct Layout {
    indent: usize,
    /// Whether the innermost open object or array has a value.
    has_value: bool,
    /// The innermost open array (objects are not tracked: they are always in lines).
    array: Array,
    /// The arrays around it, innermost last.
    outer: Vec<Array>,
    pending: Pending,
    /// The innermost array while it may still be one line: its `[` and its numbers so far.
    ///
    /// INVARIANT: not empty exactly while the innermost open array is [`Array::Empty`] or
    /// [`Array::Inline`]; whatever ends that state (a value other than a number, the end of
    /// the array) writes the line out first, so the output keeps its order.
    line: Line,
}

/// The line of numbers being built, written out in one piece when it ends: a number costs a
/// few stores here, where writing each number and each separator would cost two calls into
/// the writer (and a formatter's own buffer) per number.
#[derive(Debug, Default)]
struct Line {
    /// The bytes, of which the first `len` are the line; the rest is room to write into.
    bytes: Vec<u8>,
    len: usize,
}

/// The two digits of each number below 100.
const PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

impl Line {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next 16 bytes after the line, to write into.
    #[inline(always)]
    fn room(&mut self) -> &mut [u8; 16] {
        if self.bytes.len() - self.len < 16 {
            self.grow();
        }
        (&mut self.bytes[self.len..self.len + 16])
            .try_into()
            .expect("16 bytes")
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.bytes
            .resize(2 * self.bytes.len().max(self.len + 16), 0);
    }

    #[inline]
    fn push(&mut self, byte: u8) {
        self.room()[0] = byte;
        self.len += 1;
    }

    /// Appends `, ` when `separator`, then `value` in decimal (at most 2 + 10 bytes).
    #[inline(always)]
    fn push_u32(&mut self, separator: bool, value: u32) {
        let at = usize::from(separator) * 2;
        let room = self.room();
        // Without a separator the digits overwrite it.
        room[..2].copy_from_slice(b", ");
        let digits = if value < 100 {
            if value < 10 {
                room[at] = b'0' + value as u8;
                1
            } else {
                room[at..at + 2].copy_from_slice(&PAIRS[value as usize]);
                2
            }
        } else if value < 10_000 {
            let (high, low) = ((value / 100) as usize, (value % 100) as usize);
            if high < 10 {
                room[at] = b'0' + high as u8;
                room[at + 1..at + 3].copy_from_slice(&PAIRS[low]);
                3
            } else {
                room[at..at + 2].copy_from_slice(&PAIRS[high]);
                room[at + 2..at + 4].copy_from_slice(&PAIRS[low]);
                4
            }
        } else if value < 1_000_000 {
            // Five or six digits: path ids of a large report.
            let (high, rest) = ((value / 10_000) as usize, (value % 10_000) as usize);
            let (mid, low) = (rest / 100, rest % 100);
            let at = if high < 10 {
                room[at] = b'0' + high as u8;
                at + 1
            } else {
                room[at..at + 2].copy_from_slice(&PAIRS[high]);
                at + 2
            };
            room[at..at + 2].copy_from_slice(&PAIRS[mid]);
            room[at + 2..at + 4].copy_from_slice(&PAIRS[low]);
            if high < 10 {
                5
            } else {
                6
            }
        } else {
            Self::long(&mut room[at..], value)
        };
        self.len += at + digits;
    }

    /// Writes `value` (at least 1,000,000) at the start of `room`; returns its length.
    #[inline(never)]
    fn long(room: &mut [u8], value: u32) -> usize {
        let digits = value.ilog10() as usize + 1;
        let mut end = digits;
        let mut rest = value as usize;
        while rest >= 100 {
            end -= 2;
            room[end..end + 2].copy_from_slice(&PAIRS[rest % 100]);
            rest /= 100;
        }
        if rest >= 10 {
            room[..2].copy_from_slice(&PAIRS[rest]);
        } else {
            room[0] = b'0' + rest as u8;
        }
        digits
    }

    /// Appends any bytes (numbers other than `u32`: rare in arrays).
    fn extend(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.bytes.len() < end {
            self.bytes.resize(2 * end, 0);
        }
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Writes the line out and empties it.
    fn flush<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        let len = std::mem::take(&mut self.len);
        out.write_all(&self.bytes[..len])
    }
}

/// Where a number goes, once its separator is written.
enum Place {
    /// Into the line of its array, after `, ` when the flag says so.
    Line(bool),
    /// Straight out (an object's value, an array in lines, or the whole document).
    Out,
}

/// A newline and indent, up to 32 levels (two spaces a level), preceded by a comma.
const COMMA_LINE: &[u8] = b",\n                                                                ";

impl Layout {
    /// A newline and its indent, after a comma when `comma`, in one write.
    #[inline]
    fn newline<W: ?Sized + Write>(&self, out: &mut W, comma: bool) -> io::Result<()> {
        let from = usize::from(!comma);
        match COMMA_LINE.get(from..2 + 2 * self.indent) {
            Some(line) => out.write_all(line),
            None => {
                out.write_all(&COMMA_LINE[from..2])?;
                for _ in 0..self.indent {
                    out.write_all(b"  ")?;
                }
                Ok(())
            }
        }
    }

    /// Before a number: inline in an array that started with numbers.
    fn number<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<Place> {
        let first = match std::mem::take(&mut self.pending) {
            Pending::None => return Ok(Place::Out),
            Pending::First => true,
            Pending::Rest => false,
        };
        match self.array {
            Array::Empty => {
                self.array = Array::Inline;
                Ok(Place::Line(false))
            }
            Array::Inline => Ok(Place::Line(true)),
            Array::Lines => {
                self.newline(out, !first)?;
                Ok(Place::Out)
            }
        }
    }

    /// A `u32` anywhere but after the first number of a line.
    #[inline(never)]
    fn u32_elsewhere<W: ?Sized + Write>(&mut self, out: &mut W, value: u32) -> io::Result<()> {
        match self.number(out)? {
            Place::Line(separator) => {
                self.line.push_u32(separator, value);
                Ok(())
            }
            Place::Out => CompactFormatter.write_u32(out, value),
        }
    }

    /// Writes a number other than a `u32`, formatted by serde_json's compact formatter.
    fn formatted<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        format: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut text = Vec::new();
        format(&mut text)?;
        match self.number(out)? {
            Place::Line(separator) => {
                if separator {
                    self.line.extend(b", ");
                }
                self.line.extend(&text);
                Ok(())
            }
            Place::Out => out.write_all(&text),
        }
    }

    /// Before any other value: on its own line.
    #[inline]
    fn other<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        let first = match std::mem::take(&mut self.pending) {
            Pending::None => return Ok(()),
            Pending::First => true,
            Pending::Rest => false,
        };
        self.array = Array::Lines;
        if !self.line.is_empty() {
            self.line.flush(out)?;
        }
        self.newline(out, !first)
    }
}

impl Formatter for Layout {
    fn write_null<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        out.write_all(b"null")
    }

    fn write_bool<W: ?Sized + Write>(&mut self, out: &mut W, value: bool) -> io::Result<()> {
        self.other(out)?;
        out.write_all(if value { b"true" } else { b"false" })
    }

    #[inline(always)]
    fn write_u32<W: ?Sized + Write>(&mut self, out: &mut W, value: u32) -> io::Result<()> {
        // The bulk of a report: a number after the first of a line.
        if self.pending == Pending::Rest && self.array == Array::Inline {
            self.pending = Pending::None;
            self.line.push_u32(true, value);
            return Ok(());
        }
        self.u32_elsewhere(out, value)
    }

    fn write_u64<W: ?Sized + Write>(&mut self, out: &mut W, value: u64) -> io::Result<()> {
        match u32::try_from(value) {
            Ok(value) => self.u32_elsewhere(out, value),
            Err(_) => self.formatted(out, |text| CompactFormatter.write_u64(text, value)),
        }
    }

    fn write_i64<W: ?Sized + Write>(&mut self, out: &mut W, value: i64) -> io::Result<()> {
        self.formatted(out, |text| CompactFormatter.write_i64(text, value))
    }

    fn write_f64<W: ?Sized + Write>(&mut self, out: &mut W, value: f64) -> io::Result<()> {
        self.formatted(out, |text| CompactFormatter.write_f64(text, value))
    }

    fn write_number_str<W: ?Sized + Write>(&mut self, out: &mut W, value: &str) -> io::Result<()> {
        self.formatted(out, |text| text.write_all(value.as_bytes()))
    }

    #[inline]
    fn begin_string<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        out.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        self.indent += 1;
        self.outer.push(std::mem::take(&mut self.array));
        // INVARIANT (`line`): the innermost array is now `Empty`, and its line begins.
        self.line.push(b'[');
        Ok(())
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.indent -= 1;
        self.has_value = true;
        let array = std::mem::replace(&mut self.array, self.outer.pop().unwrap_or_default());
        if array == Array::Lines {
            self.newline(out, false)?;
            out.write_all(b"]")
        } else {
            self.line.push(b']');
            self.line.flush(out)
        }
    }

    #[inline(always)]
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        _out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pending = if first { Pending::First } else { Pending::Rest };
        Ok(())
    }

    #[inline(always)]
    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        self.indent += 1;
        self.has_value = false;
        out.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline(out, false)?;
        }
        self.has_value = true;
        out.write_all(b"}")
    }

    #[inline]
    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.newline(out, !first)
    }

    #[inline]
    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    #[inline]
    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn text(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        super::to_writer(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_but_numbers_inline() {
        let cases = [
            (json!({}), "{}"),
            (json!([]), "[]"),
            (json!({"a": []}), "{\n  \"a\": []\n}"),
            (json!({"a": [1, 2, 3]}), "{\n  \"a\": [1, 2, 3]\n}"),
            (json!(["x", "y"]), "[\n  \"x\",\n  \"y\"\n]"),
            (
                json!([{"b": null}, {}]),
                "[\n  {\n    \"b\": null\n  },\n  {}\n]",
            ),
            (
                json!({"a": [[0], [1, 2]]}),
                "{\n  \"a\": [\n    [0],\n    [1, 2]\n  ]\n}",
            ),
            (json!([1, "x"]), "[1,\n  \"x\"\n]"),
            (
                json!({"n": 1.5, "t": true}),
                "{\n  \"n\": 1.5,\n  \"t\": true\n}",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(text(&value), expected, "{value}");
            let back: serde_json::Value = serde_json::from_str(expected).unwrap();
            assert_eq!(back, value);
        }
    }

    /// Numbers of every width and sign, in arrays inline, in arrays of lines and as values.
    #[test]
    fn numbers_as_serde_json_writes_them() {
        let numbers = json!([
            0,
            9,
            10,
            99,
            100,
            12345,
            999_999_999,
            1_000_000_000,
            u32::MAX,
            u64::from(u32::MAX) + 1,
            u64::MAX,
            -1,
            i64::MIN,
            1.5,
            -0.25
        ]);
        let inline = serde_json::to_string(&numbers).unwrap().replace(',', ", ");
        assert_eq!(text(&numbers), inline);
        let long: Vec<u32> = (0..5000).map(|i| i * 7919).collect();
        let expected = format!("{{\n  \"a\": {}\n}}", serde_json::to_string(&long).unwrap())
            .replace(',', ", ");
        assert_eq!(text(&json!({ "a": long })), expected);
        let mixed = json!(["x", 1, u64::MAX, -2, 0.5, [3, 4], []]);
        assert_eq!(
            text(&mixed),
            "[\n  \"x\",\n  1,\n  18446744073709551615,\n  -2,\n  0.5,\n  [3, 4],\n  []\n]"
        );
        assert_eq!(text(&json!(7)), "7");
        assert_eq!(
            text(&json!({"n": u32::MAX, "m": -3})),
            "{\n  \"m\": -3,\n  \"n\": 4294967295\n}"
        );
    }

    /// Any document without arrays of numbers is laid out exactly as serde_json's pretty
    /// printer does.
    #[test]
    fn the_same_as_pretty_without_number_arrays() {
        let value = json!({"a": {"b": ["x", {"c": null, "d": [true, false]}], "e": {}}, "f": []});
        assert_eq!(text(&value), serde_json::to_string_pretty(&value).unwrap());
    }
}
