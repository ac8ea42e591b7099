//! The text blocks of a large snapshot, copied into their tables' heaps by two threads.
//!
//! Copying the text is most of a large load (every byte lands in memory the process touches
//! for the first time), and the records cannot be decoded from a second thread: each table's
//! part starts where the previous one's records end. So the work is shared this way:
//!
//! - the main thread decodes the records, table after table, and [posts](TextCopies::post)
//!   each large text block as it reaches it;
//! - the side thread [copies posted blocks from the front](TextCopies::copy_front), one piece
//!   (about a megabyte, ending on a char start) at a time, and computes the checksum of the
//!   whole body on the way: each piece it copies is hashed while it is in the cache, the bytes
//!   between pieces (records, small blocks) in order around them, and ahead while no piece is
//!   posted;
//! - once every record is decoded, the main thread [claims](TextCopies::copy_back) the back
//!   share of what is left that makes both threads finish together (the side thread still has
//!   to hash what it does not copy), from a piece boundary on; if the side thread has fallen
//!   behind by then (another process took its core), it claims again from what is left.
//!
//! A block then ends as a few chunks of its table's heap (two, unless the main thread claimed
//! again): the side thread's prefix, and the main thread's claims, each starting at the start
//! of the field crossing its cut (a field never straddles two chunks; the decoder records
//! those starts). Every byte is validated as UTF-8 by the thread that copies it.

use std::ops::Range;
use std::str::Utf8Error;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::snapshot::format::{ChunkSums, RunHasher};
use crate::snapshot::SnapshotError;
use crate::text::TextHeap;

/// Pieces are about this long: small enough to balance the two threads to within a fraction
/// of a millisecond, large enough that taking one costs nothing in comparison.
const PIECE: usize = if cfg!(debug_assertions) { 1 << 10 } else { 1 << 20 };

/// The most times the main thread claims part of what the side thread has left (each claim
/// is a chunk of the heaps it reaches).
const CLAIMS: usize = 3;

/// While no piece is posted, the side thread hashes ahead this many bytes at a time.
const AHEAD: usize = PIECE / 4;

/// Hashing a byte it does not copy costs the side thread about this fraction of what copying
/// one costs (reading it, against reading, writing and first touching the page; measured at
/// 100k users: 0.17 against 0.57 ms per MB): the claim leaves the side thread correspondingly
/// less to copy.
const HASH_PER_COPY: (usize, usize) = (1, 3);

/// The blocks of one load, shared by the main thread and the side thread.
pub(crate) struct TextCopies<'a> {
    /// Everything the checksum covers; every posted block lies in it.
    body: &'a [u8],
    /// Whether the load runs two threads (one of them calling [`copy_front`]
    /// (Self::copy_front) beside the decoding, or after it if the thread could not start);
    /// if not, blocks are not posted but copied where they are decoded.
    parallel: bool,
    /// The body's checksum chunks: `CHUNK` from format 3 on, else one chunk (`usize::MAX`),
    /// which the side thread hashes alone.
    chunk: usize,
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
    /// How much of the body the side thread has hashed.
    hashed: usize,
    /// The chunks the main thread hashes: whole chunks inside the parts it claimed.
    main_chunks: Vec<Range<usize>>,
}

/// A piece of a posted block, in posting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    block: usize,
    piece: usize,
}

/// What the side thread does next.
enum Step<'a> {
    /// Copy this piece of block `block` (of length `len`).
    Piece {
        block: usize,
        len: usize,
        bytes: &'a [u8],
    },
    /// Hash ahead: no piece is posted yet.
    Ahead,
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

/// The side thread's work in progress: its prefixes, and the checksums of the body's chunks
/// so far.
struct Front<'a> {
    fronts: Fronts,
    hash: BodyHash<'a>,
}

impl<'a> Front<'a> {
    fn new(body: &'a [u8], chunk: usize) -> Self {
        Front {
            fronts: Fronts::default(),
            hash: BodyHash {
                body,
                run: RunHasher::new(0, chunk, body.len()),
                skip: Vec::new(),
            },
        }
    }

    /// The checksums of every chunk of the body but those the main thread hashes, and the
    /// prefixes.
    fn finish(mut self, copies: &TextCopies<'_>) -> (ChunkSums, Fronts) {
        copies.skipped(&mut self.hash.skip);
        self.hash.hash_to(self.hash.body.len());
        for copied in self.fronts.0.iter_mut().flatten() {
            copied.text.shrink_to_fit();
        }
        let mut sums = ChunkSums::new(self.hash.body.len(), copies.chunk);
        for (i, sum) in self.hash.run.done {
            sums.set(i, sum);
        }
        (sums, self.fronts)
    }
}

/// The checksums of the chunks of a prefix of the body, hashed in order, except the chunks
/// the main thread hashes (`skip`, as far as the side thread has seen them).
struct BodyHash<'a> {
    body: &'a [u8],
    run: RunHasher,
    skip: Vec<Range<usize>>,
}

impl BodyHash<'_> {
    /// How much of the body is hashed (or skipped).
    fn hashed(&self) -> usize {
        self.run.at()
    }

    /// Hashes the body up to `end` (or its end), if not hashed yet, skipping the chunks in
    /// `skip`.
    fn hash_to(&mut self, end: usize) {
        let end = end.min(self.body.len());
        while self.run.at() < end {
            let skipped = self.run.at_chunk_start();
            if skipped.is_some_and(|i| self.skip.iter().any(|r| r.contains(&i))) {
                self.run.skip_chunk();
                continue;
            }
            let (from, to) = (self.run.at(), end.min(self.run.chunk_end()));
            self.run.feed(self.body.get(from..to).unwrap_or_default());
        }
    }

    /// Hashes what of `piece` (a part of the body just copied) is not hashed yet.
    fn hash_copied(&mut self, piece: &[u8]) {
        if let Some(start) = offset_in(self.body, piece) {
            self.hash_to(start); // nothing, unless a copy failed earlier
            self.hash_to(start + piece.len());
        }
    }
}

/// The main thread's share of the text, and of the checksum.
#[derive(Default)]
pub(crate) struct Backs {
    /// Its suffixes: block, where the suffix starts, and the copy.
    copies: Vec<(usize, usize, Result<Copied, Utf8Error>)>,
    /// The chunks it hashed: number and checksum.
    sums: Vec<(usize, u64)>,
}

impl Backs {
    /// The body's checksum, from the side thread's chunk checksums `sums` and the main
    /// thread's.
    pub(crate) fn checksum(&self, mut sums: ChunkSums, body: &[u8]) -> u64 {
        for &(i, sum) in &self.sums {
            sums.set(i, sum);
        }
        sums.finish(body)
    }
}

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
        self.append_then(bytes, |_| {})
    }

    /// [`append`](Self::append), calling `then` with each piece once it is copied.
    fn append_then(&mut self, bytes: &[u8], mut then: impl FnMut(&[u8])) -> Result<(), Utf8Error> {
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
            then(piece.as_bytes());
            rest = &rest[cut..];
        }
        Ok(())
    }
}

impl<'a> TextCopies<'a> {
    /// The copies of blocks posted from `body`, whose checksum the two threads compute in
    /// chunks of `chunk` bytes (see [`chunk_len`](crate::snapshot::format::chunk_len)).
    pub(crate) fn new(parallel: bool, body: &'a [u8], chunk: usize) -> Self {
        TextCopies {
            body,
            parallel,
            chunk,
            state: Mutex::new(State {
                blocks: Vec::new(),
                tables: Vec::new(),
                bounds: Vec::new(),
                front: Place { block: 0, piece: 0 },
                limit: None,
                closed: false,
                hashed: 0,
                main_chunks: Vec::new(),
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

    /// The side thread's part: the checksum of the body, and the copies of pieces from the
    /// front until the main thread's claim (or of every block, once they are closed without
    /// one).
    pub(crate) fn copy_front(&self) -> (ChunkSums, Fronts) {
        let mut front = Front::new(self.body, self.chunk);
        self.copy_pieces(&mut front, usize::MAX);
        front.finish(self)
    }

    /// Adds to `skip` the chunk ranges the main thread published since it last looked.
    fn skipped(&self, skip: &mut Vec<Range<usize>>) {
        let state = self.lock();
        skip.extend(state.main_chunks.iter().skip(skip.len()).cloned());
    }

    /// Copies at most `max` pieces from the front, hashing the body on the way.
    fn copy_pieces(&self, front: &mut Front<'a>, max: usize) {
        let Front { fronts, hash } = front;
        let fronts = &mut fronts.0;
        let mut copied = 0;
        while copied < max {
            let hashed = hash.hashed();
            match self.next_front(hashed, hashed < self.body.len(), &mut hash.skip) {
                None => return,
                Some(Step::Ahead) => hash.hash_to(hashed + AHEAD),
                Some(Step::Piece { block, len, bytes }) => {
                    copied += 1;
                    while fronts.len() <= block {
                        fronts.push(Ok(Copied::with_capacity(len)));
                    }
                    if let Ok(copy) = &mut fronts[block] {
                        if let Err(e) = copy.append_then(bytes, |piece| hash.hash_copied(piece)) {
                            fronts[block] = Err(e);
                        }
                    }
                }
            }
        }
    }

    /// The side thread's next step, having hashed `hashed` bytes of the body: a piece to copy;
    /// else [`Step::Ahead`] if `ahead` (there is more to hash) and no piece is posted; else it
    /// waits for one. `None` at the claim, or once closed and done.
    /// Adds the chunk ranges the main thread published to `skip` on the way.
    fn next_front(&self, hashed: usize, ahead: bool, skip: &mut Vec<Range<usize>>) -> Option<Step<'a>> {
        let mut state = self.lock();
        state.hashed = hashed;
        skip.extend(state.main_chunks.iter().skip(skip.len()).cloned());
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
                let len = bytes.len();
                return Some(Step::Piece {
                    block,
                    len,
                    bytes: &bytes[range],
                });
            }
            if state.closed {
                return None;
            }
            if ahead {
                return Some(Step::Ahead);
            }
            state = self
                .posted
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// The main thread's part, once every record is decoded: claims the back share of the
    /// bytes still to copy that balances the two threads and copies it, each block's share
    /// from `field_start(block, goal)`, the start of the field crossing that block's goal
    /// number `goal`. Then, if the side thread has fallen behind (another process took its
    /// core), claims again from what it has left, up to [`CLAIMS`] times; each claim is a
    /// chunk of its block's heap. From format 3 on it also checksums the whole checksum chunks
    /// of what it copies, which the side thread then skips.
    pub(crate) fn copy_back(&self, field_start: impl Fn(usize, usize) -> usize) -> Backs {
        // Only the main thread posts, and it has decoded every record: the blocks are final.
        let state = self.lock();
        let blocks: Vec<(&'a [u8], usize)> = (state.blocks.iter().zip(&state.bounds))
            .map(|(&block, bounds)| (block, bounds.len() - 1))
            .collect();
        drop(state);
        let (mut backs, mut sums) = (Vec::new(), Vec::new());
        for _ in 0..CLAIMS {
            let claim = self.claim();
            if claim.is_empty() {
                break;
            }
            let parts: Vec<(usize, usize, &'a [u8])> = claim
                .into_iter()
                .filter_map(|(b, first, end)| {
                    let (block, last) = blocks[b];
                    // A field start; in a bad block whose field ends inside a char, the start
                    // of that char, so the copy stays valid UTF-8 and the field-end check
                    // reports it.
                    let cut = |p: usize| match p {
                        0 => 0,
                        p if p == last => block.len(),
                        p => char_start_at_or_before(block, field_start(b, p - 1)),
                    };
                    let (base, stop) = (cut(first), cut(end));
                    // Empty if one field crosses the whole claim: the later chunk holds it.
                    (base < stop).then(|| (b, base, block.get(base..stop).unwrap_or_default()))
                })
                .collect();
            self.publish_chunks(parts.iter().map(|&(.., bytes)| bytes));
            for (b, base, bytes) in parts {
                let (copied, hashed) = self.copy_hashing(bytes);
                backs.push((b, base, copied));
                sums.extend(hashed);
            }
        }
        Backs { copies: backs, sums }
    }

    /// Copies `bytes`, a part of the body, and checksums the whole chunks inside it, each
    /// right after copying it.
    fn copy_hashing(&self, bytes: &[u8]) -> (Result<Copied, Utf8Error>, Vec<(usize, u64)>) {
        let at = offset_in(self.body, bytes);
        let mut run = at.map(|at| RunHasher::new(at, self.chunk, self.body.len()));
        let mut copied = Copied::with_capacity(bytes.len());
        let done = copied.append_then(bytes, |piece| run.iter_mut().for_each(|r| r.feed(piece)));
        (done.map(|()| copied), run.map(|r| r.done).unwrap_or_default())
    }

    /// Tells the side thread which chunks the main thread hashes while copying `parts`: the
    /// whole chunks inside each.
    fn publish_chunks(&self, parts: impl Iterator<Item = &'a [u8]>) {
        let (chunk, len) = (self.chunk, self.body.len());
        let whole = |part: &[u8]| {
            let start = offset_in(self.body, part)?;
            let end = start + part.len();
            let last = if end == len {
                len.div_ceil(chunk)
            } else {
                end / chunk
            };
            Some(start.div_ceil(chunk)..last)
        };
        let ranges: Vec<Range<usize>> = parts.filter_map(whole).filter(|r| !r.is_empty()).collect();
        self.lock().main_chunks.extend(ranges);
    }

    /// Moves the side thread's limit back so that, of the pieces between its front and the
    /// limit, the share that balances the two threads lies past it; returns those pieces,
    /// per block in block order, as the first claimed piece and the end (a piece number, the
    /// block's last bound for its end). Empty if there is nothing to claim.
    fn claim(&self) -> Vec<(usize, usize, usize)> {
        let mut state = self.lock();
        state.closed = true;
        let (front, blocks) = (state.front, state.blocks.len());
        let old = state.limit.unwrap_or(Place {
            block: blocks,
            piece: 0,
        });
        // Per block from the front's to the limit's: the pieces still to copy, [first, end).
        let open = |b: usize| {
            let bounds = &state.bounds[b];
            let first = if b == front.block { front.piece } else { 0 };
            let end = if b == old.block {
                old.piece
            } else {
                bounds.len() - 1
            };
            (first, end.max(first))
        };
        let span = |b: usize, (first, end): (usize, usize)| state.bounds[b][end] - state.bounds[b][first];
        let ahead = front.block..old.block.saturating_add(1).min(blocks);
        let total: usize = ahead.clone().map(|b| span(b, open(b))).sum();
        // The side thread copies `keep` and hashes the rest of the body it has not hashed, at
        // a fraction n/d of the cost (before format 3, what the main thread copies too):
        // keep + (unhashed - keep) n/d = total - keep balances.
        let unhashed = self.body.len().saturating_sub(state.hashed);
        let (n, d) = HASH_PER_COPY;
        let keep = if self.chunk == usize::MAX {
            (total * d).saturating_sub(unhashed * n) / (2 * d - n)
        } else {
            // Chunked (format 3): the main thread hashes what it copies, in the cache, and the
            // side thread the rest beyond the text: keep + (unhashed - total) n/d = total - keep.
            (total * d).saturating_sub(unhashed.saturating_sub(total) * n) / (2 * d)
        };
        let mut want = total - keep.min(total);
        let (mut claim, mut limit) = (Vec::new(), old);
        // Whole blocks from the back, then the pieces of one block that fit what is wanted.
        for b in ahead.rev() {
            let (first, end) = open(b);
            let bounds = &state.bounds[b];
            let mut piece = end;
            while piece > first && bounds[end] - bounds[piece - 1] <= want {
                piece -= 1;
            }
            if piece < end {
                claim.push((b, piece, end));
                limit = Place { block: b, piece };
            }
            if piece > first {
                break;
            }
            want -= bounds[end] - bounds[first];
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
        let mut backs_of: Vec<Vec<(usize, Result<Copied, Utf8Error>)>> =
            (0..tables.len()).map(|_| Vec::new()).collect();
        for (b, base, back) in backs.copies {
            if let Some(parts) = backs_of.get_mut(b) {
                parts.push((base, back));
            }
        }
        let mut heap = |b: usize| {
            // Every part is taken before an error returns: the next block needs its own.
            let front = fronts.next().unwrap_or_else(|| Ok(Copied::with_capacity(0)));
            let mut parts = std::mem::take(&mut backs_of[b]);
            parts.sort_by_key(|&(base, _)| base);
            let front = front?;
            let mut ascii = front.ascii;
            let mut tails = Vec::with_capacity(parts.len());
            for (base, back) in parts {
                let back = back?;
                ascii &= back.ascii;
                tails.push((base, back.text));
            }
            Ok((TextHeap::from_parts(front.text, tails), ascii))
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

/// Where `part` starts in `whole`, if it lies within it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
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
    use crate::snapshot::format;

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

    /// `blocks` laid out in one body, each after some other bytes (as records would be).
    fn body_of(blocks: &[String]) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
        let (mut body, mut ranges) = (Vec::new(), Vec::new());
        for (i, b) in blocks.iter().enumerate() {
            body.extend((0..100 + i * PIECE / 2).map(|j| (j * 7 + i) as u8));
            ranges.push(body.len()..body.len() + b.len());
            body.extend_from_slice(b.as_bytes());
        }
        body.extend_from_slice(b"the relations' parts");
        (body, ranges)
    }

    /// Checksum chunk lengths to test with: whole (formats 1 and 2), and smaller and larger
    /// than a piece (so chunks straddle the claims), never aligned with the pieces.
    const CHUNKS: [usize; 3] = [usize::MAX, PIECE / 3 + 7, 3 * PIECE + 11];

    /// Posts `blocks`, lets the side thread take `early` pieces, claims, lets it finish, and
    /// returns the heaps, the bytes copied before the claim, and the bytes the claim took;
    /// checks the checksum, hashed in chunks of `chunk` bytes.
    fn run(blocks: &[String], early: usize, chunk: usize) -> (Vec<(TextHeap, bool)>, usize, usize) {
        let (body, ranges) = body_of(blocks);
        let copies = TextCopies::new(true, &body, chunk);
        for (t, range) in ranges.into_iter().enumerate() {
            copies
                .post(t, "t", &body[range])
                .expect("large blocks are posted");
        }
        let mut front = Front::new(&body, chunk);
        copies.copy_pieces(&mut front, early);
        let before_claim = front.fronts.0.iter().flatten().map(|c| c.text.len()).sum();
        let goals = goals_of(&copies);
        let backs = copies.copy_back(|b, g| goals[b][g]);
        copies.copy_pieces(&mut front, usize::MAX);
        let (sums, fronts) = front.finish(&copies);
        let mut both = sums.clone();
        for &(i, sum) in &backs.sums {
            assert!(!sums.has(i), "chunk {i} hashed by both threads");
            both.set(i, sum);
        }
        assert_eq!(both.missing(), 0, "every chunk hashed by one thread");
        let expected = format::checksum_in_chunks(&body, chunk);
        assert_eq!(
            backs.checksum(sums, &body),
            expected,
            "after {early} pieces, chunk {chunk}"
        );
        let claimed = backs
            .copies
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
            for chunk in CHUNKS {
                let (heaps, before_claim, claimed) = run(&blocks, early, chunk);
                for ((heap, ascii), block) in heaps.iter().zip(&blocks) {
                    assert_eq!(heap.contiguous(), block.as_str(), "after {early} pieces");
                    assert!(heap.chunk_count() <= 1 + CLAIMS);
                    assert!(!ascii);
                }
                // The side thread copies nothing while the main thread claims here, so each claim
                // takes at least half of what it left (give or take a piece of up to 1.5): after
                // three, most of it.
                let left = blocks.iter().map(String::len).sum::<usize>() - before_claim;
                let most = left - left / 8;
                assert!(
                    claimed + 3 * PIECE >= most,
                    "after {early}: claimed {claimed} of {left}"
                );
                assert!(claimed <= left, "after {early}: claimed {claimed} of {left}");
            }
        }
    }

    #[test]
    fn a_block_is_all_ascii_only_if_both_parts_are() {
        let ascii = "abc ".repeat(2 * PIECE);
        let mut late = ascii.clone();
        late.push('é');
        for early in [0, 1, 4] {
            let (heaps, ..) = run(&[ascii.clone(), late.clone()], early, usize::MAX);
            assert_eq!((heaps[0].1, heaps[1].1), (true, false), "after {early} pieces");
        }
    }

    #[test]
    fn closed_without_a_claim_the_side_thread_copies_everything() {
        let block = text(6 * PIECE, 4);
        let copies = TextCopies::new(true, block.as_bytes(), PIECE / 3);
        copies.post(0, "t", block.as_bytes()).unwrap();
        copies.close();
        assert!(
            copies.post(1, "t", block.as_bytes()).is_none(),
            "nothing is posted once closed"
        );
        let (sums, fronts) = copies.copy_front();
        assert_eq!(sums.missing(), 0, "the side thread hashed every chunk");
        let sum = Backs::default().checksum(sums, block.as_bytes());
        assert_eq!(sum, format::checksum_in_chunks(block.as_bytes(), PIECE / 3));
        let heaps = copies.heaps(fronts, Backs::default());
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
            let copies = TextCopies::new(true, &bad, PIECE / 3);
            copies.post(3, "posts", &bad).unwrap();
            let backs = copies.copy_back(|_, g| piece_bounds(&bad)[g + 1]);
            let (sums, fronts) = copies.copy_front();
            let sum = backs.checksum(sums, &bad);
            let whole = format::checksum_in_chunks(&bad, PIECE / 3);
            assert_eq!(sum, whole, "hashed whole despite the bad byte");
            let heaps = copies.heaps(fronts, backs);
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
        let copies = TextCopies::new(true, &[], usize::MAX);
        copies.post(0, "bad", &bad).unwrap();
        copies.post(1, "good", good.as_bytes()).unwrap();
        let mut front = Front::new(&[], usize::MAX);
        copies.copy_pieces(&mut front, 1);
        let goals = goals_of(&copies);
        let backs = copies.copy_back(|b, g| goals[b][g]);
        assert!(
            backs.copies.iter().any(|&(b, ..)| b == 0),
            "the claim reaches the bad block"
        );
        copies.copy_pieces(&mut front, usize::MAX);
        let heaps = copies.heaps(front.finish(&copies).1, backs);
        assert!(matches!(
            heaps[0],
            (0, Err(SnapshotError::Decode { part: "bad", .. }))
        ));
        let (heap, _) = heaps[1].1.as_ref().unwrap();
        assert_eq!(heap.contiguous(), good.as_str());
    }

    #[test]
    fn small_blocks_and_one_thread_copy_in_place() {
        let copies = TextCopies::new(true, &[], format::CHUNK);
        assert!(copies.post(0, "t", b"short").is_none());
        let alone = TextCopies::new(false, &[], format::CHUNK);
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
