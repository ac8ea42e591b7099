//! The per-table text heap: every string field of a table lives in a few shared `String`s.
//!
//! A record stores a [`Span`] (offset and length, 8 bytes) instead of a `String` (24 bytes
//! plus its own allocation). This is what keeps memory per record below SQLite's, and because
//! text once written never changes, a fork shares it instead of copying it.
//!
//! **Invariant:** while the store's journal is non-empty (inside a statement, transaction or
//! fixture mark) the heap is append-only, so spans held by undo records stay valid. Space of
//! replaced and deleted values is counted as garbage and reclaimed by [`TextHeap::compact`]
//! only when the journal is empty.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Where one text value lives in its table's [`TextHeap`].
///
/// Serialized as its length only: a serialized table carries its text as every live record's
/// text fields back to back in slot and field order, so each offset follows from the lengths
/// before it and is assigned on load ([`TextHeap::from_fields`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    off: u32,
    len: u32,
}

impl Span {
    pub(crate) fn new(off: u32, len: u32) -> Span {
        Span { off, len }
    }

    /// Offset in the heap.
    pub(crate) fn off(self) -> usize {
        self.off as usize
    }

    /// Length in bytes. O(1).
    ///
    /// ```
    /// # use relata::Span;
    /// let empty = Span::default();
    /// assert_eq!(empty.len(), 0);
    /// assert!(empty.is_empty());
    /// ```
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// `true` for the empty value. O(1). Example at [`len`](Self::len).
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.len)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u32::deserialize(d).map(|len| Span { off: 0, len })
    }
}

/// A text field read from the store: a lazy `&str`.
///
/// Reading a record builds its view without reading its text; the text is sliced out of its
/// chunk (and its char boundaries checked, O(1)) only when the field is used. `Text` derefs to `str`,
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
    read: TextRead<'a>,
    span: Span,
}

impl<'a> Text<'a> {
    /// The text, borrowed from the store (for as long as the store is, not just the view).
    /// O(1): a slice and a char-boundary check.
    ///
    /// ```
    /// # use relata::{Entity, Schema, Store};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// struct User { name: String }
    /// let mut store = Store::new(Schema::builder().entity::<User>().build()?);
    /// let k = store.insert(User { name: "ada".into() })?;
    /// let name: &str = store.get(k).unwrap().name.as_str();
    /// assert_eq!(name, "ada");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_str(&self) -> &'a str {
        match self.read {
            TextRead::One(text) => {
                let off = self.span.off();
                text.get(off..off + self.span.len()).unwrap_or_default()
            }
            TextRead::Heap(heap) => heap.get(self.span).unwrap_or_default(),
        }
    }
}

/// Where a view reads its table's text: the text of the heap's one chunk (a heap never
/// forked), found up front, or the heap, searched on each read. A [`Records`](crate::Records)
/// view finds the one chunk when it is taken, so a text field read in its loop is the `str`
/// slice alone (its bounds and char-boundary checks): the chunk's address stays in a
/// register, where a load through the heap would be repeated after every call the loop
/// makes. A single read ([`Store::get`](crate::Store::get)) reads through the heap, which
/// finds the chunk only if a text field is read. Private to the store (it appears in
/// [`Column`](crate::Column)'s hidden methods).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum TextRead<'a> {
    /// The heap's one chunk: spans are its offsets (a span the heap handed out ends below
    /// the heap's end; bytes past it, appended by a fork to a shared chunk, are never read).
    One(&'a str),
    /// A heap of any shape, searched per read ([`TextHeap::get`]).
    Heap(&'a TextHeap),
}

impl<'a> TextRead<'a> {
    /// A lazy view of a span's text.
    #[inline]
    pub(crate) fn text(self, span: Span) -> Text<'a> {
        Text { read: self, span }
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

/// Below this many bytes, a shared last chunk is copied on the next append instead of being
/// left behind (so forking and then writing a little never fragments the heap).
const COPY_ON_WRITE_LIMIT: usize = 64 * 1024;

/// A table's text buffer. Only the store mutates it.
///
/// Its offset space is covered by chunks, each an `Arc<String>` starting where the previous
/// one ends. A [fork](crate::Store::fork) shares every chunk (reference counts, no copy); the
/// first append after that copies a small last chunk or starts a new one behind a large one,
/// so text already written is never copied by a fork and never changes while shared. A heap
/// that was never forked is one chunk, as cheap to read as a single `String`.
///
/// Chunks hold `String`s, not bytes: every span starts and ends on a char boundary (we only
/// ever append whole `&str`s), so reading a value is an O(1) boundary check, never a UTF-8
/// validation of the whole value.
#[derive(Clone, Debug, Default)]
pub struct TextHeap {
    /// Ascending by `base`; the first starts at 0.
    chunks: Vec<Chunk>,
    /// One past the last byte in use. A shared chunk may hold bytes past it (truncated here,
    /// still used by the other store); they are unreachable from this heap.
    end: usize,
    garbage: usize,
}

#[derive(Clone, Debug)]
struct Chunk {
    base: u32,
    text: Arc<String>,
}

/// The text of `span` in `chunk`, whose own offsets end at `limit`; `None` outside them or
/// off a char boundary.
#[inline(always)]
fn chunk_str(chunk: &Chunk, limit: usize, span: Span) -> Option<&str> {
    let off = span.off as usize;
    let local = off.checked_sub(chunk.base as usize)?;
    let stop = local + span.len as usize;
    (off + span.len as usize <= limit)
        .then(|| chunk.text.get(local..stop))
        .flatten()
}

impl TextHeap {
    /// A heap holding `text` (a loaded snapshot's), with no garbage known.
    pub(crate) fn from_string(text: String) -> TextHeap {
        TextHeap {
            end: text.len(),
            chunks: vec![Chunk {
                base: 0,
                text: Arc::new(text),
            }],
            garbage: 0,
        }
    }

    /// The whole offset space as one string: borrowed when it is one chunk, else assembled,
    /// with NUL bytes where a chunk ends before the next begins. O(1) or O(bytes).
    #[cfg(test)]
    pub(crate) fn contiguous(&self) -> std::borrow::Cow<'_, str> {
        if let [only] = self.chunks.as_slice() {
            return std::borrow::Cow::Borrowed(only.text.get(..self.end).unwrap_or_default());
        }
        let mut all = String::with_capacity(self.end);
        for (i, c) in self.chunks.iter().enumerate() {
            let stop = self.limit(i);
            all.extend(std::iter::repeat_n(
                '\0',
                (c.base as usize).saturating_sub(all.len()),
            ));
            all.push_str(c.text.get(..stop - c.base as usize).unwrap_or(&c.text));
        }
        std::borrow::Cow::Owned(all)
    }

    /// Appends text and returns its span.
    ///
    /// # Errors
    /// [`Error::CapacityExceeded`] when the heap would pass [`TEXT_HEAP_LIMIT`].
    pub(crate) fn push_str(&mut self, data: &str) -> Result<Span, Error> {
        if data.is_empty() {
            return Ok(Span::default());
        }
        let off = self.end;
        if off + data.len() > TEXT_HEAP_LIMIT {
            return Err(Error::CapacityExceeded {
                what: "text heap (4 GiB per table)",
            });
        }
        self.tail().push_str(data);
        self.end += data.len();
        Ok(Span {
            off: off as u32,
            len: data.len() as u32,
        })
    }

    /// The string that ends at `end`, owned by this heap alone: the last chunk, copied first
    /// if it is shared and small, or a new chunk when it is shared and large.
    fn tail(&mut self) -> &mut String {
        let end = self.end;
        let keep = |c: &Chunk| Arc::strong_count(&c.text) == 1 || c.text.len() <= COPY_ON_WRITE_LIMIT;
        if !self.chunks.last().is_some_and(keep) {
            self.chunks.push(Chunk {
                base: end as u32,
                text: Arc::default(),
            });
        }
        let last = self.chunks.len() - 1;
        let chunk = &mut self.chunks[last];
        let text = Arc::make_mut(&mut chunk.text);
        text.truncate(end - chunk.base as usize);
        text
    }

    /// How a loop's views read this heap: its one chunk's text if it has one, else the heap
    /// (see [`TextRead`]). O(1).
    #[inline]
    pub(crate) fn read(&self) -> TextRead<'_> {
        match self.chunks.as_slice() {
            [only] => TextRead::One(only.text.as_str()),
            _ => TextRead::Heap(self),
        }
    }

    /// The text of a span. A span off the heap's bytes or char boundaries yields `""` (debug
    /// builds assert that the span lies inside the heap instead): reads never panic.
    #[inline]
    pub(crate) fn str(&self, span: Span) -> &str {
        debug_assert!(self.contains(span), "span {span:?} outside heap");
        self.get(span).unwrap_or_default()
    }

    /// Where chunk `i`'s own offsets end: at the next chunk's base, or the heap's end (a chunk
    /// may hold bytes past that: shared with a fork, or a loaded block's overlap).
    fn limit(&self, i: usize) -> usize {
        self.chunks.get(i + 1).map_or(self.end, |next| next.base as usize)
    }

    /// The text of a span the heap handed out (every span of a live record: the records'
    /// invariant, which `check_integrity` checks through [`contains`](Self::contains)), or
    /// `None` when it lies off its chunk's bytes or char boundaries. Inline for a heap of one
    /// chunk (one never forked: the common case, read by every field read and every look-up
    /// that compares a stored text): that chunk starts at offset 0, and a span the heap
    /// handed out ends below `end`, so the read is the `str` slice alone (its bounds and char
    /// boundary checks keep any span safe; a span past `end` could only read bytes a fork
    /// appended to a shared chunk, never panic). A chunked heap's search is out of line.
    #[inline]
    fn get(&self, span: Span) -> Option<&str> {
        match self.chunks.as_slice() {
            [only] => only.text.get(span.off()..span.off() + span.len()),
            _ => self.get_chunked(span),
        }
    }

    /// [`get`](Self::get) in a heap of several chunks: the chunk holding the span's start,
    /// and where the next one (or the heap) begins: a chunk may hold bytes past that
    /// (shared, or a loaded block's overlap); they are not its own.
    #[inline(never)]
    fn get_chunked(&self, span: Span) -> Option<&str> {
        let off = span.off as usize;
        let i = (self.chunks)
            .partition_point(|c| c.base as usize <= off)
            .checked_sub(1)?;
        chunk_str(self.chunks.get(i)?, self.limit(i), span)
    }

    /// `true` when the span lies inside the heap (one chunk's own offsets, below `end`), on
    /// char boundaries: what every span a record holds must satisfy. O(1) for one chunk,
    /// O(log chunks) otherwise.
    pub(crate) fn contains(&self, span: Span) -> bool {
        if span.len == 0 {
            return true;
        }
        match self.chunks.as_slice() {
            [only] => chunk_str(only, self.end, span).is_some(),
            _ => self.get_chunked(span).is_some(),
        }
    }

    /// Bytes in use (the offset space), garbage included.
    pub(crate) fn len(&self) -> usize {
        self.end
    }

    /// Drops bytes appended after `len` (used to discard the text of a rejected write, and by
    /// rollback). Bytes of a shared chunk are left to its other owner.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.end {
            return;
        }
        while self.chunks.last().is_some_and(|c| c.base as usize >= len) {
            self.chunks.pop();
        }
        if let Some(c) = self.chunks.last_mut() {
            if let Some(text) = Arc::get_mut(&mut c.text) {
                text.truncate(len - c.base as usize);
            }
        }
        self.end = len;
    }

    /// Records that a span is no longer referenced.
    pub(crate) fn release(&mut self, span: Span) {
        self.garbage += span.len();
    }

    /// `true` when at least half the heap is garbage and compaction pays for itself.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.garbage > 4096 && self.garbage * 2 > self.end
    }

    /// Copies every live span (reported through `for_each_live`) into a fresh buffer and
    /// rewrites the spans. O(live bytes).
    pub(crate) fn compact(&mut self, for_each_live: impl FnOnce(&mut dyn FnMut(&mut Span))) {
        let live = self.end.saturating_sub(self.garbage);
        let mut fresh = String::with_capacity(live);
        for_each_live(&mut |span: &mut Span| {
            let off = fresh.len() as u32;
            fresh.push_str(self.get(*span).unwrap_or_default());
            span.off = if span.len == 0 { 0 } else { off };
        });
        *self = TextHeap::from_string(fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heap_of(texts: &[&str]) -> (TextHeap, Vec<Span>) {
        let mut heap = TextHeap::default();
        let spans = texts.iter().map(|t| heap.push_str(t).unwrap()).collect();
        (heap, spans)
    }

    fn read_all(heap: &TextHeap, spans: &[Span]) -> Vec<String> {
        spans.iter().map(|&s| heap.str(s).to_owned()).collect()
    }

    #[test]
    fn a_clone_shares_chunks_and_appends_apart() {
        let (mut a, mut spans) = heap_of(&["ab", "cdé"]);
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.chunks[0].text, &b.chunks[0].text));
        let sa = a.push_str("from a").unwrap();
        let sb = b.push_str("from b").unwrap();
        assert_eq!(sa, sb, "both continue the same offset space");
        assert_eq!((a.str(sa), b.str(sb)), ("from a", "from b"));
        assert_eq!(read_all(&a, &spans), read_all(&b, &spans));
        spans.push(sa);
        assert_eq!(read_all(&a, &spans), ["ab", "cdé", "from a"]);
        assert_eq!(a.chunks.len(), 1, "a small shared chunk is copied, not split");
    }

    #[test]
    fn a_large_shared_chunk_is_left_behind_not_copied() {
        let big = "x".repeat(COPY_ON_WRITE_LIMIT + 1);
        let (mut a, spans) = heap_of(&[&big, "tail"]);
        let b = a.clone();
        let new = a.push_str("new").unwrap();
        assert_eq!(a.chunks.len(), 2);
        assert!(Arc::ptr_eq(&a.chunks[0].text, &b.chunks[0].text));
        assert_eq!(read_all(&a, &spans), [big.as_str(), "tail"]);
        assert_eq!(a.str(new), "new");
        assert_eq!(a.contiguous().len(), a.len());
        assert!(
            !a.contains(Span::new(new.off - 2, 4)),
            "a span across chunks is refused"
        );
    }

    #[test]
    fn truncate_drops_chunks_and_leaves_shared_bytes_alone() {
        let big = "y".repeat(COPY_ON_WRITE_LIMIT + 1);
        let (mut a, spans) = heap_of(&[&big]);
        let mark = a.len();
        let b = a.clone();
        let s = a.push_str("gone").unwrap();
        a.truncate(mark);
        assert_eq!((a.len(), a.chunks.len()), (mark, 1));
        assert!(!a.contains(s));
        a.truncate(mark - 10);
        assert_eq!(b.str(spans[0]), big, "the other owner keeps its bytes");
        assert!(!a.contains(spans[0]));
        let again = a.push_str("zz").unwrap();
        assert_eq!((again.off as usize, a.str(again)), (mark - 10, "zz"));
        assert_eq!(a.contiguous().len(), a.len());
    }

    #[test]
    fn contiguous_pads_between_chunks() {
        let big = "z".repeat(COPY_ON_WRITE_LIMIT + 1);
        let (mut a, _) = heap_of(&[&big]);
        let keep = a.clone();
        a.truncate(4);
        let s = a.push_str("é").unwrap();
        let all = a.contiguous();
        assert_eq!(&all[s.off as usize..][..2], "é");
        assert_eq!(&all[..4], "zzzz");
        drop(keep);
    }

    #[test]
    fn compaction_makes_one_unshared_chunk() {
        let big = "w".repeat(COPY_ON_WRITE_LIMIT + 1);
        let (mut a, mut spans) = heap_of(&[&big, "k"]);
        let _shared = a.clone();
        spans.push(a.push_str("after").unwrap());
        a.compact(|each| spans.iter_mut().skip(1).for_each(each));
        assert_eq!(a.chunks.len(), 1);
        assert_eq!((a.str(spans[1]), a.str(spans[2])), ("k", "after"));
        assert_eq!(a.len(), 6);
    }
}
