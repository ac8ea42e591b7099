//! The text blocks of a large snapshot, copied into their tables' heaps by two threads.
//!
//! Copying the text is most of a large load (every byte lands in memory the process touches
//! for the first time), and the records cannot be decoded from a second thread: each table's
//! part starts where the previous one's records end. So the work is shared this way:
//!
//! - the main thread decodes the records, table after table, and [posts](TextCopies::post)
//!   each large text block as it reaches it;
//! - the side thread computes the checksum, then [copies posted blocks from the
//!   front](TextCopies::copy_front), one piece (about a megabyte, ending on a char start) at a
//!   time;
//! - once every record is decoded, the main thread [claims](TextCopies::copy_back) the back
//!   half of what is left, from a piece boundary on, so both threads finish together.
//!
//! A block then ends as at most two chunks of its table's heap: the side thread's prefix, and
//! the main thread's suffix, which starts at the start of the field crossing the cut (a field
//! never straddles two chunks; the decoder records those starts). Every byte is validated as
//! UTF-8 by the thread that copies it.

use std::str::Utf8Error;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::snapshot::SnapshotError;
use crate::text::TextHeap;

/// Pieces are about this long: small enough to balance the two threads to within a fraction
/// of a millisecond, large enough that taking one costs nothing in comparison.
const PIECE: usize = if cfg!(debug_assertions) { 1 << 10 } else { 1 << 20 };

/// The blocks of one load, shared by the main thread and the side thread.
pub(crate) struct TextCopies<'a> {
    /// Whether the load runs two threads (one of them calling [`copy_front`]
    /// (Self::copy_front) beside the decoding, or after it if the thread could not start);
    /// if not, blocks are not posted but copied where they are decoded.
    parallel: bool,
    state: Mutex<State<'a>>,
    posted: Condvar,
}

struct State<'a> {
    blocks: Vec<&'a [u8]>,
    /// Per block, the number and name of the table whose text it is.
    tables: Vec<(usize, &'static str)>,
    /// Per block, its piece boundaries: 0, char starts about [`PIECE`] apart, its length.
    bounds: Vec<Vec<usize>>,
    /// The next piece the side thread takes.
    front: Place,
    /// Where the side thread stops: set when the main thread claims the rest.
    limit: Option<Place>,
    /// No block is posted after this (set by the claim, or when the main thread gives up).
    closed: bool,
}

/// A piece of a posted block, in posting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    block: usize,
    piece: usize,
}

/// A block as posted: its number, and the interior piece boundaries, where the decoder must
/// record the start of the field crossing each (see `Reader::with_goals`).
pub(crate) struct Posted {
    pub(crate) block: usize,
    pub(crate) goals: Vec<usize>,
}

/// The side thread's prefixes, one per block it reached (in block order).
#[derive(Default)]
pub(crate) struct Fronts(Vec<Result<Copied, Utf8Error>>);

/// The main thread's suffixes: block, where the suffix starts, and the copy.
#[derive(Default)]
pub(crate) struct Backs(Vec<(usize, usize, Result<Copied, Utf8Error>)>);

/// A block's heap, and whether it is all ASCII.
pub(crate) type Heap = (TextHeap, bool);

/// A copied part of a block, and whether it is all ASCII (then every offset in it is a char
/// boundary, and the decoder's deferred check of field ends can be skipped).
pub(crate) struct Copied {
    text: String,
    ascii: bool,
}

impl Copied {
    fn with_capacity(capacity: usize) -> Copied {
        Copied {
            text: String::with_capacity(capacity),
            ascii: true,
        }
    }

    /// Appends `bytes`, validated in pieces small enough to still be in cache when they are
    /// copied (and checked for ASCII, until a piece is not).
    fn append(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        const CACHED: usize = 64 * 1024;
        let mut rest = bytes;
        while !rest.is_empty() {
            let cut = match rest.len() > CACHED {
                true => char_start_at_or_before(rest, CACHED),
                false => rest.len(),
            };
            let piece = std::str::from_utf8(&rest[..cut])?;
            self.ascii = self.ascii && piece.is_ascii();
            self.text.push_str(piece);
            rest = &rest[cut..];
        }
        Ok(())
    }
}

impl<'a> TextCopies<'a> {
    pub(crate) fn new(parallel: bool) -> Self {
        TextCopies {
            parallel,
            state: Mutex::new(State {
                blocks: Vec::new(),
                tables: Vec::new(),
                bounds: Vec::new(),
                front: Place { block: 0, piece: 0 },
                limit: None,
                closed: false,
            }),
            posted: Condvar::new(),
        }
    }

    /// Nothing panics while the lock is held, so it is never poisoned; if it were, the
    /// state is still consistent (every update is a single assignment).
    fn lock(&self) -> MutexGuard<'_, State<'a>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Posts the text block of table `table`, named `name`, for the two threads to copy;
    /// `None` if it is copied where it is (it is small, or there is no side thread).
    pub(crate) fn post(&self, table: usize, name: &'static str, block: &'a [u8]) -> Option<Posted> {
        if !self.parallel || block.len() < crate::par::PARALLEL_BYTES {
            return None;
        }
        let bounds = piece_bounds(block);
        let goals = bounds[1..bounds.len() - 1].to_vec();
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        state.blocks.push(block);
        state.tables.push((table, name));
        state.bounds.push(bounds);
        let number = state.blocks.len() - 1;
        drop(state);
        self.posted.notify_all();
        Some(Posted { block: number, goals })
    }

    /// No more blocks: the side thread copies what is posted and returns. Called by the
    /// claim, and by [`Closer`] however the main thread's decoding ends.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.posted.notify_all();
    }

    /// A guard that [closes](Self::close) the blocks when dropped.
    pub(crate) fn closer(&self) -> Closer<'_, 'a> {
        Closer(self)
    }

    /// The side thread's part: copies pieces from the front until it reaches the main
    /// thread's claim, or every block once they are closed without one.
    pub(crate) fn copy_front(&self) -> Fronts {
        let mut fronts = Fronts::default();
        self.copy_pieces(&mut fronts, usize::MAX);
        for copied in fronts.0.iter_mut().flatten() {
            copied.text.shrink_to_fit();
        }
        fronts
    }

    /// Copies at most `max` pieces from the front into `fronts`.
    fn copy_pieces(&self, fronts: &mut Fronts, max: usize) {
        let fronts = &mut fronts.0;
        for _ in 0..max {
            let Some(((block, len), piece)) = self.next_front() else {
                return;
            };
            while fronts.len() <= block {
                fronts.push(Ok(Copied::with_capacity(len)));
            }
            if let Ok(copied) = &mut fronts[block] {
                if let Err(e) = copied.append(piece) {
                    fronts[block] = Err(e);
                }
            }
        }
    }

    /// The side thread's next piece: (block number, block length) and its bytes; waits for
    /// blocks to be posted, `None` at the claim or once closed and done.
    fn next_front(&self) -> Option<((usize, usize), &'a [u8])> {
        let mut state = self.lock();
        loop {
            let Place { block, piece } = state.front;
            if state.limit.is_some_and(|limit| state.front >= limit) {
                return None;
            }
            if let Some(bounds) = state.bounds.get(block) {
                let bytes = state.blocks[block];
                let range = bounds[piece]..bounds[piece + 1];
                state.front = match piece + 2 < bounds.len() {
                    true => Place {
                        block,
                        piece: piece + 1,
                    },
                    false => Place {
                        block: block + 1,
                        piece: 0,
                    },
                };
                return Some(((block, bytes.len()), &bytes[range]));
            }
            if state.closed {
                return None;
            }
            state = self
                .posted
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// The main thread's part, once every record is decoded: claims the back half of the
    /// bytes still to copy and copies them, each block's share from `field_start(block,
    /// goal)`, the start of the field crossing that block's goal number `goal`.
    pub(crate) fn copy_back(&self, field_start: impl Fn(usize, usize) -> usize) -> Backs {
        let claim = self.claim();
        let blocks = self.lock().blocks.clone();
        let mut backs = Vec::new();
        for (b, piece) in claim {
            let block = blocks[b];
            // A field start; in a bad block whose field ends inside a char, the start of that
            // char, so the copy stays valid UTF-8 and the field-end check reports the field.
            let base = match piece {
                0 => 0,
                p => char_start_at_or_before(block, field_start(b, p - 1)),
            };
            let bytes = block.get(base..).unwrap_or_default();
            let mut copied = Copied::with_capacity(bytes.len());
            backs.push((b, base, copied.append(bytes).map(|()| copied)));
        }
        Backs(backs)
    }

    /// Sets the side thread's limit so that about half the remaining bytes lie past it;
    /// returns, per claimed block in block order, the first claimed piece.
    fn claim(&self) -> Vec<(usize, usize)> {
        let mut state = self.lock();
        state.closed = true;
        let front = state.front;
        let left = |p: Place| {
            state
                .bounds
                .get(p.block)
                .map_or(0, |b| b[b.len() - 1] - b[p.piece])
        };
        let later: usize = (front.block + 1..state.blocks.len())
            .map(|b| left(Place { block: b, piece: 0 }))
            .sum();
        let mut want = (left(front) + later) / 2;
        let mut claim = Vec::new();
        let mut limit = Place {
            block: state.blocks.len(),
            piece: 0,
        };
        // Whole blocks from the back, then the pieces of one block that fit what is wanted.
        for b in (front.block..state.blocks.len()).rev() {
            let bounds = &state.bounds[b];
            let first = if b == front.block { front.piece } else { 0 };
            let end = bounds[bounds.len() - 1];
            let mut piece = bounds.len() - 1;
            while piece > first && end - bounds[piece - 1] <= want {
                piece -= 1;
            }
            if piece < bounds.len() - 1 {
                claim.push((b, piece));
                limit = Place { block: b, piece };
            }
            if piece > first {
                break;
            }
            want -= end - bounds[first];
        }
        state.limit = Some(limit);
        drop(state);
        self.posted.notify_all();
        claim.reverse();
        claim
    }

    /// Each posted block's table, heap, and whether the heap is all ASCII, from the two
    /// threads' copies, in posting order.
    pub(crate) fn heaps(&self, fronts: Fronts, backs: Backs) -> Vec<(usize, Result<Heap, SnapshotError>)> {
        let tables = self.lock().tables.clone();
        let mut fronts = fronts.0.into_iter();
        let mut backs = backs.0.into_iter().peekable();
        let mut heap = |b: usize| {
            // Both parts are taken before either error returns: the next block needs its own.
            let front = fronts.next().unwrap_or_else(|| Ok(Copied::with_capacity(0)));
            let back = backs.next_if(|&(block, _, _)| block == b);
            let front = front?;
            match back {
                None => Ok((TextHeap::from_string(front.text), front.ascii)),
                Some((_, base, back)) => {
                    let back = back?;
                    let ascii = front.ascii && back.ascii;
                    Ok((TextHeap::from_split(front.text, base, back.text), ascii))
                }
            }
        };
        let named = |(b, (table, name))| (table, heap(b).map_err(|e| not_utf8(name, e)));
        tables.into_iter().enumerate().map(named).collect()
    }
}

/// Closes the blocks when dropped (see [`TextCopies::closer`]).
pub(crate) struct Closer<'c, 'a>(&'c TextCopies<'a>);

impl Drop for Closer<'_, '_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// 0, then char starts about [`PIECE`] apart, then `block.len()`.
fn piece_bounds(block: &[u8]) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut at = 0;
    while block.len() - at > PIECE + PIECE / 2 {
        let cut = char_start_at_or_before(block, at + PIECE);
        if cut <= at {
            break; // not UTF-8 near here: one long last piece, which the copy refuses
        }
        bounds.push(cut);
        at = cut;
    }
    bounds.push(block.len());
    bounds
}

/// The last char boundary at or before `at` in `block` (a valid block's: a char has at most 3
/// continuation bytes, so at most 3 steps back).
pub(crate) fn char_start_at_or_before(block: &[u8], at: usize) -> usize {
    let mut at = at.min(block.len());
    for _ in 0..3 {
        if block.get(at).copied().is_some_and(is_continuation) {
            at = at.saturating_sub(1);
        }
    }
    at
}

/// Whether `b` continues a UTF-8 char (so the byte before it is not a char's end).
pub(crate) fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// `block` as an owned `String`, validated piece by piece as it is copied.
pub(crate) fn owned_text(block: &[u8]) -> Result<String, Utf8Error> {
    let mut copied = Copied::with_capacity(block.len());
    copied.append(block)?;
    Ok(copied.text)
}

/// The error for a text block that is not UTF-8.
pub(crate) fn not_utf8(table: &'static str, e: Utf8Error) -> SnapshotError {
    SnapshotError::Decode {
        part: table,
        detail: format!("text block is not UTF-8: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text with one-, two- and three-byte chars, `len` bytes or a little less.
    fn text(len: usize, seed: usize) -> String {
        let chars = ['a', 'é', '€', 'z', ' '];
        let mut s = String::new();
        let mut i = seed;
        while s.len() + 3 <= len {
            s.push(chars[i % chars.len()]);
            i = i.wrapping_mul(31).wrapping_add(7);
        }
        s
    }

    /// Every char is a field here, so a goal (a char start) is its own field start.
    fn goals_of(copies: &TextCopies<'_>) -> Vec<Vec<usize>> {
        let state = copies.lock();
        state.bounds.iter().map(|b| b[1..b.len() - 1].to_vec()).collect()
    }

    /// Posts `blocks`, lets the side thread take `early` pieces, claims, lets it finish, and
    /// returns the heaps, the bytes copied before the claim, and the bytes the claim took.
    fn run(blocks: &[String], early: usize) -> (Vec<(TextHeap, bool)>, usize, usize) {
        let copies = TextCopies::new(true);
        for (t, b) in blocks.iter().enumerate() {
            copies
                .post(t, "t", b.as_bytes())
                .expect("large blocks are posted");
        }
        let mut fronts = Fronts::default();
        copies.copy_pieces(&mut fronts, early);
        let before_claim = fronts.0.iter().flatten().map(|c| c.text.len()).sum();
        let goals = goals_of(&copies);
        let backs = copies.copy_back(|b, g| goals[b][g]);
        copies.copy_pieces(&mut fronts, usize::MAX);
        let claimed = backs
            .0
            .iter()
            .map(|(_, _, t)| t.as_ref().map_or(0, |c| c.text.len()))
            .sum();
        let heaps = copies
            .heaps(fronts, backs)
            .into_iter()
            .map(|(_, h)| h.unwrap())
            .collect();
        (heaps, before_claim, claimed)
    }

    #[test]
    fn the_two_copies_rebuild_every_block_at_any_point_of_the_claim() {
        let blocks = [text(9 * PIECE + 5, 1), text(5 * PIECE, 2), text(12 * PIECE, 3)];
        let pieces: usize = blocks.iter().map(|b| piece_bounds(b.as_bytes()).len() - 1).sum();
        for early in 0..=pieces {
            let (heaps, before_claim, claimed) = run(&blocks, early);
            for ((heap, ascii), block) in heaps.iter().zip(&blocks) {
                assert_eq!(heap.contiguous(), block.as_str(), "after {early} pieces");
                assert!(heap.chunk_count() <= 2);
                assert!(!ascii);
            }
            // The claim takes half of what was left, give or take a piece (of up to 1.5).
            let left = blocks.iter().map(String::len).sum::<usize>() - before_claim;
            let off = claimed.abs_diff(left / 2);
            assert!(off <= PIECE * 3 / 2, "after {early}: claimed {claimed} of {left}");
        }
    }

    #[test]
    fn a_block_is_all_ascii_only_if_both_parts_are() {
        let ascii = "abc ".repeat(2 * PIECE);
        let mut late = ascii.clone();
        late.push('é');
        for early in [0, 1, 4] {
            let (heaps, ..) = run(&[ascii.clone(), late.clone()], early);
            assert_eq!((heaps[0].1, heaps[1].1), (true, false), "after {early} pieces");
        }
    }

    #[test]
    fn closed_without_a_claim_the_side_thread_copies_everything() {
        let block = text(6 * PIECE, 4);
        let copies = TextCopies::new(true);
        copies.post(0, "t", block.as_bytes()).unwrap();
        copies.close();
        assert!(
            copies.post(1, "t", block.as_bytes()).is_none(),
            "nothing is posted once closed"
        );
        let heaps = copies.heaps(copies.copy_front(), Backs::default());
        let (heap, ascii) = heaps.into_iter().next().unwrap().1.unwrap();
        assert!(!ascii);
        assert_eq!(
            (heap.contiguous().as_ref(), heap.chunk_count()),
            (block.as_str(), 1)
        );
    }

    #[test]
    fn bad_utf8_in_either_part_is_reported_for_its_table() {
        let good = text(8 * PIECE, 5);
        for at in [10, 7 * PIECE] {
            let mut bad = good.clone().into_bytes();
            bad[at] = 0xFF;
            let copies = TextCopies::new(true);
            copies.post(3, "posts", &bad).unwrap();
            let backs = copies.copy_back(|_, g| piece_bounds(&bad)[g + 1]);
            let heaps = copies.heaps(copies.copy_front(), backs);
            match &heaps[..] {
                [(3, Err(SnapshotError::Decode { part: "posts", .. }))] => {}
                _ => panic!("bad byte at {at} not reported"),
            }
        }
    }

    #[test]
    fn a_bad_block_split_between_the_threads_leaves_the_next_block_whole() {
        let mut bad = text(12 * PIECE, 8).into_bytes();
        bad[2 * PIECE + 10] = 0xFF; // in the side thread's part
        let good = text(5 * PIECE, 9);
        let copies = TextCopies::new(true);
        copies.post(0, "bad", &bad).unwrap();
        copies.post(1, "good", good.as_bytes()).unwrap();
        let mut fronts = Fronts::default();
        copies.copy_pieces(&mut fronts, 1);
        let goals = goals_of(&copies);
        let backs = copies.copy_back(|b, g| goals[b][g]);
        assert!(
            backs.0.iter().any(|&(b, ..)| b == 0),
            "the claim reaches the bad block"
        );
        copies.copy_pieces(&mut fronts, usize::MAX);
        let heaps = copies.heaps(fronts, backs);
        assert!(matches!(
            heaps[0],
            (0, Err(SnapshotError::Decode { part: "bad", .. }))
        ));
        let (heap, _) = heaps[1].1.as_ref().unwrap();
        assert_eq!(heap.contiguous(), good.as_str());
    }

    #[test]
    fn small_blocks_and_one_thread_copy_in_place() {
        let copies = TextCopies::new(true);
        assert!(copies.post(0, "t", b"short").is_none());
        let alone = TextCopies::new(false);
        assert!(alone.post(0, "t", text(8 * PIECE, 6).as_bytes()).is_none());
    }

    #[test]
    fn pieces_end_on_char_starts() {
        let block = text(20 * PIECE, 7);
        let bounds = piece_bounds(block.as_bytes());
        assert!(bounds.len() > 10);
        assert!(bounds.iter().all(|&b| block.is_char_boundary(b)));
        assert_eq!(*bounds.last().unwrap(), block.len());
    }
}
