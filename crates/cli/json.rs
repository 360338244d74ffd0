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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Array {
    /// No value yet.
    Empty,
    /// Numbers on one line.
    Inline,
    /// One value a line.
    Lines,
}

#[derive(Debug, Default)]
struct Layout {
    indent: usize,
    /// Whether the innermost open object or array has a value.
    has_value: bool,
    /// The open arrays, innermost last (objects are not tracked: they are always in lines).
    arrays: Vec<Array>,
    /// Inside an array, a value has begun but its separator is not written yet: it depends on
    /// whether the value is a number.
    pending: Option<bool>,
}

impl Layout {
    fn newline<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        // The newline and its indent (two spaces a level) in one write, up to 32 levels.
        const LINE: &[u8] = b"\n                                                                ";
        match LINE.get(..1 + 2 * self.indent) {
            Some(line) => out.write_all(line),
            None => {
                out.write_all(b"\n")?;
                for _ in 0..self.indent {
                    out.write_all(b"  ")?;
                }
                Ok(())
            }
        }
    }

    /// Before a number: inline in an array that started with numbers.
    fn number<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let array = self
            .arrays
            .last_mut()
            .expect("a pending value is in an array");
        match (*array, first) {
            (Array::Empty, _) => *array = Array::Inline,
            (Array::Inline, _) => out.write_all(b", ")?,
            (Array::Lines, _) => {
                out.write_all(b",")?;
                self.newline(out)?;
            }
        }
        Ok(())
    }

    /// Before any other value: on its own line.
    fn other<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let array = self
            .arrays
            .last_mut()
            .expect("a pending value is in an array");
        if !first {
            out.write_all(b",")?;
        }
        *array = Array::Lines;
        self.newline(out)
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

    fn write_u32<W: ?Sized + Write>(&mut self, out: &mut W, value: u32) -> io::Result<()> {
        self.number(out)?;
        CompactFormatter.write_u32(out, value)
    }

    fn write_u64<W: ?Sized + Write>(&mut self, out: &mut W, value: u64) -> io::Result<()> {
        self.number(out)?;
        CompactFormatter.write_u64(out, value)
    }

    fn write_i64<W: ?Sized + Write>(&mut self, out: &mut W, value: i64) -> io::Result<()> {
        self.number(out)?;
        CompactFormatter.write_i64(out, value)
    }

    fn write_f64<W: ?Sized + Write>(&mut self, out: &mut W, value: f64) -> io::Result<()> {
        self.number(out)?;
        CompactFormatter.write_f64(out, value)
    }

    fn write_number_str<W: ?Sized + Write>(&mut self, out: &mut W, value: &str) -> io::Result<()> {
        self.number(out)?;
        out.write_all(value.as_bytes())
    }

    fn begin_string<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        out.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.other(out)?;
        self.indent += 1;
        self.arrays.push(Array::Empty);
        out.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.indent -= 1;
        if self.arrays.pop() == Some(Array::Lines) {
            self.newline(out)?;
        }
        self.has_value = true;
        out.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        _out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

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
            self.newline(out)?;
        }
        self.has_value = true;
        out.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.newline(out)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

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

    /// Any document without arrays of numbers is laid out exactly as serde_json's pretty
    /// printer does.
    #[test]
    fn the_same_as_pretty_without_number_arrays() {
        let value = json!({"a": {"b": ["x", {"c": null, "d": [true, false]}], "e": {}}, "f": []});
        assert_eq!(text(&value), serde_json::to_string_pretty(&value).unwrap());
    }
}
