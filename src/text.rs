//! The per-table text heap: every string field of a table lives in one `String`.
//!
//! A record stores a [`Span`] (offset and length, 8 bytes) instead of a `String` (24 bytes
//! plus its own allocation). This is what keeps memory per record below SQLite's and makes a
//! fork a handful of `memcpy`s instead of millions of small allocations.
//!
//! **Invariant:** while the store's journal is non-empty (inside a statement, transaction or
//! fixture mark) the heap is append-only, so spans held by undo records stay valid. Space of
//! replaced and deleted values is counted as garbage and reclaimed by [`TextHeap::compact`]
//! only when the journal is empty.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Where one text value lives in its table's [`TextHeap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    off: u32,
    len: u32,
}

impl Span {
    pub(crate) fn new(off: u32, len: u32) -> Span {
        Span { off, len }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// `true` for the empty value.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    fn range(self) -> std::ops::Range<usize> {
        self.off as usize..self.off as usize + self.len as usize
    }
}

/// A text field read from the store: a lazy `&str`.
///
/// Reading a record builds its view without touching the text heap; the text is located (and
/// its char boundaries checked, O(1)) only when the field is used. `Text` derefs to `str`,
/// compares with `&str` and `String`, and displays as the text.
///
/// ```
/// # use relata::{Entity, Schema, Store};
/// #[derive(Entity, Clone, Debug, PartialEq)]
/// struct User { name: String }
/// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
/// let k = store.insert(User { name: "ada".into() })?;
/// let name = store.get(k).unwrap().name;
/// assert_eq!(name, "ada");
/// assert_eq!(name.len(), 3);              // str methods through Deref
/// let s: &str = &name;                    // deref coercion
/// assert_eq!(format!("{name}!"), "ada!");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Text<'a> {
    heap: &'a str,
    span: Span,
}

impl<'a> Text<'a> {
    /// The text, borrowed from the store.
    pub fn as_str(&self) -> &'a str {
        self.heap.get(self.span.range()).unwrap_or_default()
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Text<'_>) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for Text<'_> {}
impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
impl PartialEq<String> for Text<'_> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<Text<'_>> for &str {
    fn eq(&self, other: &Text<'_>) -> bool {
        *self == other.as_str()
    }
}
impl PartialEq<Text<'_>> for String {
    fn eq(&self, other: &Text<'_>) -> bool {
        self == other.as_str()
    }
}

/// The most bytes one table's heap may hold (spans use 32-bit offsets).
pub const TEXT_HEAP_LIMIT: usize = u32::MAX as usize;

/// A table's text buffer. Only the store mutates it.
///
/// It is a `String`, not a `Vec<u8>`: every span starts and ends on a char boundary (we only
/// ever append whole `&str`s), so reading a value is an O(1) boundary check, never a UTF-8
/// validation of the whole value.
#[derive(Clone, Debug, Default)]
pub struct TextHeap {
    bytes: String,
    garbage: usize,
}

impl TextHeap {
    /// A heap holding `text` (a loaded snapshot's), with no garbage known.
    pub(crate) fn from_string(text: String) -> TextHeap {
        TextHeap {
            bytes: text,
            garbage: 0,
        }
    }

    /// The whole heap.
    pub(crate) fn as_str(&self) -> &str {
        &self.bytes
    }

    /// Appends text and returns its span.
    ///
    /// # Errors
    /// [`Error::CapacityExceeded`] when the heap would pass [`TEXT_HEAP_LIMIT`].
    pub(crate) fn push_str(&mut self, data: &str) -> Result<Span, Error> {
        if data.is_empty() {
            return Ok(Span::default());
        }
        let off = self.bytes.len();
        if off + data.len() > TEXT_HEAP_LIMIT {
            return Err(Error::CapacityExceeded {
                what: "text heap (4 GiB per table)",
            });
        }
        self.bytes.push_str(data);
        Ok(Span {
            off: off as u32,
            len: data.len() as u32,
        })
    }

    /// A lazy view of a span's text.
    pub(crate) fn text(&self, span: Span) -> Text<'_> {
        Text {
            heap: &self.bytes,
            span,
        }
    }

    /// The text of a span. A span the heap never handed out yields `""` (debug builds assert
    /// instead): reads never panic.
    pub(crate) fn str(&self, span: Span) -> &str {
        debug_assert!(self.contains(span), "span {span:?} outside heap");
        self.bytes.get(span.range()).unwrap_or_default()
    }

    /// `true` when the span lies inside the heap, on char boundaries.
    pub(crate) fn contains(&self, span: Span) -> bool {
        self.bytes.get(span.range()).is_some()
    }

    /// Bytes in use, garbage included.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Drops bytes appended after `len` (used to discard the text of a rejected write).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.bytes.truncate(len);
    }

    /// Records that a span is no longer referenced.
    pub(crate) fn release(&mut self, span: Span) {
        self.garbage += span.len();
    }

    /// `true` when at least half the heap is garbage and compaction pays for itself.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.garbage > 4096 && self.garbage * 2 > self.bytes.len()
    }

    /// Copies every live span (reported through `for_each_live`) into a fresh buffer and
    /// rewrites the spans. O(live bytes).
    pub(crate) fn compact(&mut self, for_each_live: impl FnOnce(&mut dyn FnMut(&mut Span))) {
        let live = self.bytes.len().saturating_sub(self.garbage);
        let mut fresh = String::with_capacity(live);
        let old = &self.bytes;
        for_each_live(&mut |span: &mut Span| {
            let off = fresh.len() as u32;
            fresh.push_str(old.get(span.range()).unwrap_or_default());
            span.off = if span.len == 0 { 0 } else { off };
        });
        self.bytes = fresh;
        self.garbage = 0;
    }
}
