//! JSON as the CLI writes it: serde_json's pretty layout (two-space indent, one value a line),
//! except that an array of numbers stays on one line. Impact reports refer to shared entries,
//! paths and actions by index, and one index a line would make up most of their bytes.
//!
//! The writer is a serde [`Serializer`](serde::Serializer) of its own rather than serde_json's
//! with a custom formatter: a report is mostly numbers, keys and short strings, and here each
//! is a few stores into one buffer (written out in large pieces), where serde_json's would be
//! several calls into the formatter and the writer. It writes exactly the bytes serde_json's
//! serializer would with that layout: its scalars come from serde_json's own formatter, and
//! a string that needs escaping is escaped by serde_json.

use std::fmt;
use std::io::{self, Write};

use iamsim_core::report::INDEXES;
use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};

/// Writes `value` to `out` in the CLI's layout.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut json = Json {
        out,
        buf: Buf::default(),
        indent: 0,
        has_value: false,
        array: Array::Empty,
        outer: Vec::new(),
        pending: Pending::None,
    };
    value.serialize(&mut json).map_err(|Error(e)| e)?;
    json.flush()
}

/// What went wrong: the writer's error, or the value's (serde's `custom`), as serde_json's
/// `io::Error` conversion gives it.
#[derive(Debug)]
pub struct Error(io::Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Error {
        Error(io::Error::new(
            io::ErrorKind::InvalidData,
            message.to_string(),
        ))
    }
}

type Result<T = ()> = std::result::Result<T, Error>;

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

/// Once the buffer holds this much, it is written out (after a value of an array or object).
const FLUSH: usize = 1 << 17;

/// The serializer: the output buffer and the layout's state.
struct Json<W> {
    out: W,
    buf: Buf,
    indent: usize,
    /// Whether the innermost open object or array has a value.
    has_value: bool,
    /// The innermost open array (objects are not tracked: they are always in lines).
    array: Array,
    /// The arrays around it, innermost last.
    outer: Vec<Array>,
    pending: Pending,
}

/// The output not yet written out.
#[derive(Debug, Default)]
struct Buf {
    /// The bytes, of which the first `len` are output; the rest is room to write into.
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

/// The bytes of a string that serde_json escapes: controls, `"` and `\`.
const ESCAPED: [bool; 256] = {
    let mut escaped = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        escaped[b] = true;
        b += 1;
    }
    escaped[b'"' as usize] = true;
    escaped[b'\\' as usize] = true;
    escaped
};

/// A newline and indent, up to 32 levels (two spaces a level), after a comma.
const COMMA_LINE: &[u8; 66] =
    b",\n                                                                ";

impl Buf {
    /// The next `N` bytes after the output, to write into.
    #[inline(always)]
    fn room<const N: usize>(&mut self) -> &mut [u8; N] {
        if self.bytes.len() - self.len < N {
            self.grow(N);
        }
        (&mut self.bytes[self.len..self.len + N])
            .try_into()
            .expect("N bytes")
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let size = (2 * self.bytes.len()).max(self.len + n).max(FLUSH + 4096);
        self.bytes.resize(size, 0);
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.bytes.len() < end {
            self.grow(bytes.len());
        }
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Appends `, ` when `separator`, then `value` in decimal (at most 2 + 10 bytes).
    #[inline(always)]
    fn put_u32(&mut self, separator: bool, value: u32) {
        let at = usize::from(separator) * 2;
        let room = self.room::<16>();
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

    /// A newline and `indent` levels, after a comma when `comma`.
    #[inline(always)]
    fn newline(&mut self, comma: bool, indent: usize) {
        let from = usize::from(!comma);
        if indent <= 32 {
            // The whole constant in (a fixed-size copy), then only its used part kept.
            let room = self.room::<66>();
            *room = *COMMA_LINE;
            if !comma {
                room[..2].copy_from_slice(b"\n ");
            }
            self.len += 2 - from + 2 * indent;
        } else {
            self.put(&COMMA_LINE[from..2]);
            for _ in 0..indent {
                self.put(b"  ");
            }
        }
    }

    /// A string in quotes, escaped as serde_json escapes it.
    #[inline]
    fn string(&mut self, text: &str) {
        let text = text.as_bytes();
        let end = self.len + text.len() + 2;
        if self.bytes.len() < end {
            self.grow(text.len() + 2);
        }
        // Copied and checked in one pass, byte by byte: the strings of a report are short
        // (ids, names, keys), where a call to copy them would cost more than the bytes.
        let quoted = &mut self.bytes[self.len..end];
        let mut escape = false;
        for (to, &byte) in quoted[1..].iter_mut().zip(text) {
            *to = byte;
            escape |= ESCAPED[usize::from(byte)];
        }
        if escape {
            return self.escaped(text);
        }
        quoted[0] = b'"';
        quoted[text.len() + 1] = b'"';
        self.len = end;
    }

    #[cold]
    #[inline(never)]
    fn escaped(&mut self, text: &[u8]) {
        let text = std::str::from_utf8(text).expect("the bytes of a str");
        let mut quoted = Vec::with_capacity(text.len() + 8);
        serde_json::to_writer(&mut quoted, text).expect("a string serializes into memory");
        self.put(&quoted);
    }

    /// A number as serde_json's compact formatter writes it.
    fn formatted(&mut self, format: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
        let mut text = Vec::new();
        format(&mut text).expect("a number formats into memory");
        self.put(&text);
    }
}

impl<W: Write> Json<W> {
    /// Writes the buffer out.
    fn flush(&mut self) -> io::Result<()> {
        let len = std::mem::take(&mut self.buf.len);
        self.out.write_all(&self.buf.bytes[..len])
    }

    /// Writes the buffer out once it is large.
    #[inline(always)]
    fn flush_if_full(&mut self) -> Result {
        if self.buf.len >= FLUSH {
            self.flush().map_err(Error)?;
        }
        Ok(())
    }

    #[inline(always)]
    fn newline(&mut self, comma: bool) {
        self.buf.newline(comma, self.indent);
    }

    /// Before a number: inline in an array that started with numbers.
    #[inline]
    fn number(&mut self) {
        let first = match std::mem::take(&mut self.pending) {
            Pending::None => return,
            Pending::First => true,
            Pending::Rest => false,
        };
        match self.array {
            Array::Empty => self.array = Array::Inline,
            Array::Inline => self.buf.put(b", "),
            Array::Lines => self.newline(!first),
        }
    }

    /// Before any other value: on its own line.
    #[inline(always)]
    fn other(&mut self) {
        let first = match std::mem::take(&mut self.pending) {
            Pending::None => return,
            Pending::First => true,
            Pending::Rest => false,
        };
        self.array = Array::Lines;
        self.newline(!first);
    }

    /// A `u32` anywhere but after the first number of a line.
    #[inline(never)]
    fn u32_elsewhere(&mut self, value: u32) {
        self.number();
        self.buf.put_u32(false, value);
    }

    fn formatted(&mut self, format: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) {
        self.number();
        self.buf.formatted(format);
    }

    #[inline]
    fn string(&mut self, text: &str) {
        self.other();
        self.buf.string(text);
    }

    fn begin_array(&mut self) {
        self.other();
        self.indent += 1;
        self.outer.push(std::mem::take(&mut self.array));
        self.buf.put(b"[");
    }

    fn end_array(&mut self) {
        self.indent -= 1;
        let array = std::mem::replace(&mut self.array, self.outer.pop().unwrap_or_default());
        if array == Array::Lines {
            self.newline(false);
        }
        self.has_value = true;
        self.buf.put(b"]");
    }

    #[inline]
    fn begin_object(&mut self) {
        self.other();
        self.indent += 1;
        self.has_value = false;
        self.buf.put(b"{");
    }

    #[inline]
    fn end_object(&mut self) {
        self.indent -= 1;
        if self.has_value {
            self.newline(false);
        }
        self.has_value = true;
        self.buf.put(b"}");
    }

    /// An object's key (a string) and the `: ` after it.
    #[inline]
    fn key(&mut self, first: bool, key: &str) {
        self.newline(!first);
        self.buf.string(key);
        self.buf.put(b": ");
    }

    /// `{"variant": ` of an enum's variant with data.
    fn begin_variant(&mut self, variant: &str) {
        self.begin_object();
        self.key(true, variant);
    }

    /// The `}` after a variant's data.
    fn end_variant(&mut self) {
        self.has_value = true;
        self.end_object();
    }

    fn seq(&mut self, len: Option<usize>, variant: bool) -> Compound<'_, W> {
        self.begin_array();
        let state = if len == Some(0) {
            self.end_array();
            State::Empty
        } else {
            State::First
        };
        Compound {
            json: self,
            state,
            variant,
        }
    }

    fn map(&mut self, len: Option<usize>, variant: bool) -> Compound<'_, W> {
        self.begin_object();
        let state = if len == Some(0) {
            self.end_object();
            State::Empty
        } else {
            State::First
        };
        Compound {
            json: self,
            state,
            variant,
        }
    }
}

impl<'a, W: Write> ser::Serializer for &'a mut Json<W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, W>;
    type SerializeTuple = Compound<'a, W>;
    type SerializeTupleStruct = Compound<'a, W>;
    type SerializeTupleVariant = Compound<'a, W>;
    type SerializeMap = Compound<'a, W>;
    type SerializeStruct = Compound<'a, W>;
    type SerializeStructVariant = Compound<'a, W>;

    fn serialize_bool(self, value: bool) -> Result {
        self.other();
        self.buf.put(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result {
        match u32::try_from(value) {
            Ok(value) => self.u32_elsewhere(value),
            Err(_) => self.formatted(|text| CompactFormatter.write_i64(text, value)),
        }
        Ok(())
    }

    fn serialize_i128(self, value: i128) -> Result {
        self.formatted(|text| CompactFormatter.write_i128(text, value));
        Ok(())
    }

    fn serialize_u8(self, value: u8) -> Result {
        self.serialize_u32(value.into())
    }

    fn serialize_u16(self, value: u16) -> Result {
        self.serialize_u32(value.into())
    }

    #[inline(always)]
    fn serialize_u32(self, value: u32) -> Result {
        // The bulk of a report: a number after the first of a line.
        if self.pending == Pending::Rest && self.array == Array::Inline {
            self.pending = Pending::None;
            self.buf.put_u32(true, value);
        } else {
            self.u32_elsewhere(value);
        }
        Ok(())
    }

    fn serialize_u64(self, value: u64) -> Result {
        match u32::try_from(value) {
            Ok(value) => self.u32_elsewhere(value),
            Err(_) => self.formatted(|text| CompactFormatter.write_u64(text, value)),
        }
        Ok(())
    }

    fn serialize_u128(self, value: u128) -> Result {
        self.formatted(|text| CompactFormatter.write_u128(text, value));
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> Result {
        if value.is_finite() {
            self.formatted(|text| CompactFormatter.write_f32(text, value));
            Ok(())
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_f64(self, value: f64) -> Result {
        if value.is_finite() {
            self.formatted(|text| CompactFormatter.write_f64(text, value));
            Ok(())
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, value: char) -> Result {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, value: &str) -> Result {
        self.string(value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result {
        // As serde_json: an array of numbers.
        self.begin_array();
        for (i, &byte) in value.iter().enumerate() {
            self.pending = if i == 0 {
                Pending::First
            } else {
                Pending::Rest
            };
            self.serialize_u32(byte.into())?;
            self.has_value = true;
        }
        self.end_array();
        Ok(())
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.other();
        self.buf.put(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result {
        if name == INDEXES {
            // The bulk of a report: a list of indexes, always one line, formatted whole.
            self.other();
            self.buf.put(b"[");
            value.serialize(&mut IndexLine {
                buf: &mut self.buf,
                first: true,
            })?;
            self.buf.put(b"]");
            self.has_value = true;
            return Ok(());
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.begin_variant(variant);
        value.serialize(&mut *self)?;
        self.end_variant();
        Ok(())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, W>> {
        Ok(self.seq(len, false))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, W>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a, W>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, W>> {
        self.begin_variant(variant);
        Ok(self.seq(Some(len), true))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, W>> {
        Ok(self.map(len, false))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a, W>> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a, W>> {
        self.begin_variant(variant);
        Ok(self.map(Some(len), true))
    }
}

/// Where an array or object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Empty, and already closed.
    Empty,
    /// Before its first value.
    First,
    /// After a value.
    Rest,
}

/// An open array or object (or an enum variant's, closed with its `}`).
struct Compound<'a, W> {
    json: &'a mut Json<W>,
    state: State,
    /// Whether the array or object is a variant's data, in `{"variant": ...}`.
    variant: bool,
}

impl<W: Write> Compound<'_, W> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.json.pending = if self.state == State::First {
            Pending::First
        } else {
            Pending::Rest
        };
        self.state = State::Rest;
        value.serialize(&mut *self.json)?;
        self.json.has_value = true;
        self.json.flush_if_full()
    }

    fn end_array(self) -> Result {
        if self.state != State::Empty {
            self.json.end_array();
        }
        if self.variant {
            self.json.end_variant();
        }
        Ok(())
    }

    #[inline]
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.json)?;
        self.json.has_value = true;
        self.json.flush_if_full()
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result {
        self.json.key(self.state == State::First, key);
        self.state = State::Rest;
        self.value(value)
    }

    fn end_object(self) -> Result {
        if self.state != State::Empty {
            self.json.end_object();
        }
        if self.variant {
            self.json.end_variant();
        }
        Ok(())
    }
}

/// The array-like compounds: each value an element, closed as an array (a tuple variant's
/// `}` too, by `end_array`).
macro_rules! array_like {
    ($($compound:ident::$method:ident),*) => {$(
        impl<W: Write> ser::$compound for Compound<'_, W> {
            type Ok = ();
            type Error = Error;

            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                self.element(value)
            }

            fn end(self) -> Result {
                self.end_array()
            }
        }
    )*};
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<W: Write> ser::SerializeMap for Compound<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.json.newline(self.state != State::First);
        self.state = State::Rest;
        key.serialize(MapKey(&mut *self.json))?;
        self.json.buf.put(b": ");
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.value(value)
    }

    fn end(self) -> Result {
        self.end_object()
    }
}

impl<W: Write> ser::SerializeStruct for Compound<'_, W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }

    fn end(self) -> Result {
        self.end_object()
    }
}

impl<W: Write> ser::SerializeStructVariant for Compound<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }

    fn end(self) -> Result {
        self.end_object()
    }
}

/// A list of indexes ([`INDEXES`]) written into the buffer as one line (without its brackets):
/// each number a few stores, with none of the layout's bookkeeping.
///
/// INVARIANT: the list is a sequence of `u32`s (table ids, serialized as numbers); anything
/// else is an error.
struct IndexLine<'a> {
    buf: &'a mut Buf,
    /// Whether no number is written yet.
    first: bool,
}

fn not_indexes() -> Error {
    ser::Error::custom("a list of indexes holds u32 numbers only")
}

impl ser::SerializeSeq for &mut IndexLine<'_> {
    type Ok = ();
    type Error = Error;

    #[inline(always)]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result {
        Ok(())
    }
}

/// The methods of a serializer that refuses every tuple, map and struct (each compound but the
/// sequence), answering `$error()`.
macro_rules! refuse_compounds {
    ($error:ident) => {
        fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
            Err($error())
        }

        fn serialize_tuple_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleStruct> {
            Err($error())
        }

        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleVariant> {
            Err($error())
        }

        fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
            Err($error())
        }

        fn serialize_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStruct> {
            Err($error())
        }

        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStructVariant> {
            Err($error())
        }
    };
}

/// The methods of a serializer that only take a `u32` or a sequence, all of them errors.
macro_rules! only_u32s_and_seqs {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result {
            Err(not_indexes())
        })*
    };
}

impl ser::Serializer for &mut IndexLine<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    #[inline(always)]
    fn serialize_u32(self, value: u32) -> Result {
        self.buf.put_u32(!self.first, value);
        self.first = false;
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self> {
        Ok(self)
    }

    only_u32s_and_seqs! {
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(not_indexes())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(not_indexes())
    }

    refuse_compounds!(not_indexes);
}

/// A map's key, written as a string as serde_json writes keys: strings as they are, numbers
/// and booleans in quotes; anything else is an error.
struct MapKey<'a, W>(&'a mut Json<W>);

impl<W: Write> MapKey<'_, W> {
    fn quoted(self, format: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Result {
        self.0.buf.put(b"\"");
        self.0.buf.formatted(format);
        self.0.buf.put(b"\"");
        Ok(())
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl<W: Write> ser::Serializer for MapKey<'_, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, value: &str) -> Result {
        self.0.buf.string(value);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_bool(self, value: bool) -> Result {
        self.quoted(|text| CompactFormatter.write_bool(text, value))
    }

    fn serialize_i8(self, value: i8) -> Result {
        self.quoted(|text| CompactFormatter.write_i8(text, value))
    }

    fn serialize_i16(self, value: i16) -> Result {
        self.quoted(|text| CompactFormatter.write_i16(text, value))
    }

    fn serialize_i32(self, value: i32) -> Result {
        self.quoted(|text| CompactFormatter.write_i32(text, value))
    }

    fn serialize_i64(self, value: i64) -> Result {
        self.quoted(|text| CompactFormatter.write_i64(text, value))
    }

    fn serialize_i128(self, value: i128) -> Result {
        self.quoted(|text| CompactFormatter.write_i128(text, value))
    }

    fn serialize_u8(self, value: u8) -> Result {
        self.quoted(|text| CompactFormatter.write_u8(text, value))
    }

    fn serialize_u16(self, value: u16) -> Result {
        self.quoted(|text| CompactFormatter.write_u16(text, value))
    }

    fn serialize_u32(self, value: u32) -> Result {
        self.quoted(|text| CompactFormatter.write_u32(text, value))
    }

    fn serialize_u64(self, value: u64) -> Result {
        self.quoted(|text| CompactFormatter.write_u64(text, value))
    }

    fn serialize_u128(self, value: u128) -> Result {
        self.quoted(|text| CompactFormatter.write_u128(text, value))
    }

    fn serialize_f32(self, value: f32) -> Result {
        if !value.is_finite() {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.quoted(|text| CompactFormatter.write_f32(text, value))
    }

    fn serialize_f64(self, value: f64) -> Result {
        if !value.is_finite() {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.quoted(|text| CompactFormatter.write_f64(text, value))
    }

    fn serialize_char(self, value: char) -> Result {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }

    refuse_compounds!(key_must_be_a_string);
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

    /// Every shape serde gives a serializer (enums of each kind, options, maps with keys of
    /// each kind, escapes) is laid out as serde_json's pretty printer lays it out.
    #[test]
    fn every_shape_as_serde_json_pretty() {
        use std::collections::BTreeMap;

        #[derive(serde::Serialize)]
        enum Kind {
            Unit,
            Newtype(String),
            Tuple(bool, String),
            Struct { a: Option<String>, b: () },
            EmptyStruct {},
        }

        #[derive(serde::Serialize)]
        struct Shapes {
            kinds: Vec<Kind>,
            text: String,
            none: Option<bool>,
            nan: f64,
            character: char,
            by_number: BTreeMap<u64, String>,
            by_sign: BTreeMap<i32, bool>,
            by_flag: BTreeMap<bool, ()>,
            empty: BTreeMap<String, String>,
            nested: Vec<Vec<String>>,
            unit: (),
        }

        let shapes = Shapes {
            kinds: vec![
                Kind::Unit,
                Kind::Newtype("n".into()),
                Kind::Tuple(true, "t".into()),
                Kind::Struct { a: None, b: () },
                Kind::EmptyStruct {},
            ],
            text: "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} é ✓".into(),
            none: None,
            nan: f64::NAN,
            character: '"',
            by_number: BTreeMap::from([(1, "one".into()), (u64::MAX, "max".into())]),
            by_sign: BTreeMap::from([(-1, true)]),
            by_flag: BTreeMap::from([(false, ())]),
            empty: BTreeMap::new(),
            nested: vec![vec![], vec!["x".into()]],
            unit: (),
        };
        let mut out = Vec::new();
        super::to_writer(&mut out, &shapes).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&shapes).unwrap()
        );
    }

    /// Lists of indexes (`report::INDEXES`) are written as any array of numbers is, and a
    /// serializer that does not know the name writes them as plain lists.
    #[test]
    fn lists_of_indexes() {
        use iamsim_core::report::{ActionId, GroupedEntry};
        let entry = GroupedEntry {
            actions: vec![
                ActionId(0),
                ActionId(12),
                ActionId(345_678),
                ActionId(u32::MAX),
            ],
            resource: "*".into(),
            via: vec![],
        };
        let mut out = Vec::new();
        super::to_writer(&mut out, &[&entry, &entry]).unwrap();
        let entry_text = "{\n    \"actions\": [0, 12, 345678, 4294967295],\n    \
            \"resource\": \"*\",\n    \"via\": []\n  }";
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("[\n  {entry_text},\n  {entry_text}\n]")
        );
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            json!({"actions": [0, 12, 345_678, u32::MAX], "resource": "*", "via": []})
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
