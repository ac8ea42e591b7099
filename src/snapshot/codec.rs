//! The compact row codec of snapshot format 2: every stored field written by hand, without
//! serde, so a load is one pass over the bytes straight into the arena.
//!
//! Integers are LEB128 varints (signed ones zigzagged), floats their little-endian bits,
//! keys a varint slot index and a varint version. Text is not written with the row: the row
//! holds the byte length of each text field, and the table's text block holds the texts in
//! row order, so a span's offset is implied by the lengths before it (and the loaded heap
//! holds no garbage).

use crate::key::RawKey;
use crate::snapshot::text_copy::is_continuation;
use crate::text::{Span, TextHeap};

/// Appends rows to a snapshot part; text goes to a separate block written before the rows.
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
    heap: &'a TextHeap,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, heap: &'a TextHeap) -> Self {
        Writer { out, heap }
    }

    /// An unsigned varint (LEB128).
    pub fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    /// A signed varint (zigzag, then LEB128).
    pub fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    fn span(&mut self, s: Span) {
        debug_assert!(self.heap.contains(s));
        self.u64(s.len() as u64);
    }

    /// A span's text itself, for the text block.
    pub(crate) fn text(&mut self, s: Span) {
        self.out.extend_from_slice(self.heap.str(s).as_bytes());
    }

    /// The heap's bytes at offsets `range`, for a text block whose fields lie there back to
    /// back; `false` (nothing written) if the heap does not hold them all.
    pub(crate) fn text_range(&mut self, range: std::ops::Range<usize>) -> bool {
        let Some(pieces) = self.heap.range_pieces(range) else {
            return false;
        };
        for piece in pieces {
            self.out.extend_from_slice(piece);
        }
        true
    }
}

/// Reads rows written by [`Writer`]. Every read checks its bounds and returns `None` on
/// malformed input; nothing is allocated from a length read here.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The text block, possibly not yet validated as UTF-8 (another thread does that while
    /// the rows decode); spans only need to end on char boundaries of it.
    text: &'a [u8],
    /// Where the next text field starts in the text block.
    text_at: usize,
    /// Offsets in the text block, ascending, where the load may cut it into chunks (see
    /// [`field_starts`](Self::field_starts)).
    goals: &'a [usize],
    /// The next goal not yet passed (`usize::MAX` after the last): one compare per field.
    next_goal: usize,
    /// For each goal passed, the start of the first field ending past it.
    starts: Vec<usize>,
    /// Whether each field must end on a char boundary of `text` (else the caller checks
    /// field ends once the text is validated; see `Table::check_field_ends`).
    boundaries: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], text: &'a [u8]) -> Self {
        Reader {
            bytes,
            at: 0,
            text,
            text_at: 0,
            goals: &[],
            next_goal: usize::MAX,
            starts: Vec::new(),
            boundaries: true,
        }
    }

    /// Leaves checking that each field ends on a char boundary to the caller: the text is
    /// being copied meanwhile, and if it turns out to be all ASCII, every offset is one.
    pub(crate) fn without_boundary_checks(self) -> Self {
        Reader {
            boundaries: false,
            ..self
        }
    }

    /// Also records, for each of `goals` (ascending offsets in the text block), where the
    /// first text field ending past it starts ([`field_starts`](Self::field_starts)).
    pub(crate) fn with_goals(self, goals: &'a [usize]) -> Self {
        Reader {
            goals,
            next_goal: goals.first().copied().unwrap_or(usize::MAX),
            ..self
        }
    }

    /// For each goal passed so far, the start of the first text field that ends past it:
    /// every field before it lies below the goal, so the text block can be held as two
    /// chunks, the first up to the goal and the second from here.
    pub(crate) fn field_starts(&self) -> &[usize] {
        &self.starts
    }

    /// Records the current field's start for every goal that `end` passes.
    #[cold]
    fn pass_goals(&mut self, end: usize) {
        while self.goals.get(self.starts.len()).is_some_and(|&g| end > g) {
            self.starts.push(self.text_at);
        }
        self.next_goal = self.goals.get(self.starts.len()).copied().unwrap_or(usize::MAX);
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// Text bytes claimed by the rows read so far.
    pub(crate) fn text_used(&self) -> usize {
        self.text_at
    }

    /// An unsigned varint of at most ten bytes, without overflow.
    #[inline]
    pub fn u64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            if shift == 63 && b > 1 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// A varint that must fit in a `u32`.
    #[inline]
    pub fn u32(&mut self) -> Option<u32> {
        self.u64().and_then(|v| u32::try_from(v).ok())
    }

    /// A zigzag varint.
    #[inline]
    pub fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| ((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// `N` raw bytes.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.bytes.get(self.at..self.at + N)?;
        self.at += N;
        b.try_into().ok()
    }

    /// The next text field: its length, then a span that must end inside the text block, on a
    /// char boundary unless that check is left to the caller (it starts where the previous
    /// one ended, a boundary already).
    #[inline]
    fn span(&mut self) -> Option<Span> {
        let len = self.u32()?;
        if len == 0 {
            return Some(Span::default());
        }
        let end = self.text_at.checked_add(len as usize)?;
        // Inside the block, and at its end or before a byte that is not a UTF-8 continuation
        // byte: once the block is valid UTF-8, that is a char boundary.
        if end > self.text.len() {
            return None;
        }
        if self.boundaries && self.text.get(end).copied().is_some_and(is_continuation) {
            return None;
        }
        if end > self.next_goal {
            self.pass_goals(end);
        }
        let span = Span::new(self.text_at as u32, len);
        self.text_at = end;
        Some(span)
    }
}

/// A stored field type's compact form. Implemented for every `Column::Stored` type; the
/// derive calls it for each field. Not API.
#[doc(hidden)]
pub trait Compact: Sized + Default {
    /// Writes the value (a text field writes its length; its bytes go to the text block).
    fn encode(&self, w: &mut Writer<'_>);
    /// Reads a value; `None` when the bytes are malformed.
    fn decode(r: &mut Reader<'_>) -> Option<Self>;
    /// Calls `f` with each text span, in field order (to collect the text block).
    fn spans(&self, _f: &mut dyn FnMut(Span)) {}
}

impl Compact for Span {
    fn encode(&self, w: &mut Writer<'_>) {
        w.span(*self);
    }
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        r.span()
    }
    fn spans(&self, f: &mut dyn FnMut(Span)) {
        f(*self)
    }
}

impl Compact for RawKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u64(u64::from(self.index()));
        w.u64(u64::from(self.version()));
    }
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        let index = r.u32()?;
        let version = r.u32()?;
        Some(RawKey::from_u64(u64::from(version) << 32 | u64::from(index)))
    }
}

impl<T: Compact> Compact for Option<T> {
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            None => w.bytes(&[0]),
            Some(v) => {
                w.bytes(&[1]);
                v.encode(w);
            }
        }
    }
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        match r.array::<1>()? {
            [0] => Some(None),
            [1] => T::decode(r).map(Some),
            _ => None,
        }
    }
    fn spans(&self, f: &mut dyn FnMut(Span)) {
        if let Some(v) = self {
            v.spans(f)
        }
    }
}

/// Bytes as a length and the bytes themselves, in the row stream (not the text block).
impl Compact for Box<[u8]> {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u64(self.len() as u64);
        w.bytes(self);
    }
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        let len = usize::try_from(r.u64()?).ok()?;
        let end = r.at.checked_add(len)?;
        let b = r.bytes.get(r.at..end)?;
        r.at = end;
        Some(b.into())
    }
}

/// Integers as varints: a value that does not fit its type is malformed input.
macro_rules! compact_int {
    ($read:ident, $write:ident, $wide:ty: $($t:ty),*) => {$(
        impl Compact for $t {
            fn encode(&self, w: &mut Writer<'_>) {
                w.$write(<$wide>::from(*self));
            }
            #[inline]
            fn decode(r: &mut Reader<'_>) -> Option<Self> {
                <$t>::try_from(r.$read()?).ok()
            }
        }
    )*};
}
compact_int!(i64, i64, i64: i8, i16, i32, i64);
compact_int!(u64, u64, u64: u8, u16, u32, u64);

impl Compact for bool {
    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&[u8::from(*self)]);
    }
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        match r.array::<1>()? {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

impl Compact for f32 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&self.to_bits().to_le_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        r.array().map(|b| f32::from_bits(u32::from_le_bytes(b)))
    }
}

impl Compact for f64 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&self.to_bits().to_le_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        r.array().map(|b| f64::from_bits(u64::from_le_bytes(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        let heap = TextHeap::default();
        let mut out = Vec::new();
        let values = [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let mut w = Writer::new(&mut out, &heap);
        for v in values {
            w.u64(v);
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            w.i64(v);
        }
        let mut r = Reader::new(&out, b"");
        for v in values {
            assert_eq!(r.u64(), Some(v));
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.i64(), Some(v));
        }
        assert_eq!(r.u64(), None, "end of input");
        let overlong = [0xff; 10];
        assert_eq!(Reader::new(&overlong, b"").u64(), None);
        assert_eq!(Reader::new(&[0x80, 0x80], b"").u64(), None, "unterminated");
    }

    #[test]
    fn spans_follow_each_other_and_stay_on_char_boundaries() {
        let text = "héllo".as_bytes();
        let mut r = Reader::new(&[1, 0, 2, 9], text);
        assert_eq!(r.span(), Some(Span::new(0, 1)));
        assert_eq!(r.span(), Some(Span::default()));
        assert_eq!(r.span(), Some(Span::new(1, 2)), "é is two bytes");
        assert_eq!(r.span(), None, "past the end");
        let mut r = Reader::new(&[2], text);
        assert_eq!(r.span(), None, "inside é");
    }
}
