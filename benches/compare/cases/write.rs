//! The measured writes that change relationships: moving a child, deleting with cascades.

use super::keys;
use crate::data::{Picks, GROUPS_PER_USER, POSTS_PER_USER};
use crate::harness::{time_per_op, Loaded, Op};
use crate::subject::Subject;

/// `move_child`: point a post at another user. Each input is a pair of moves, there and back
/// again (`post -> other user`, then `post -> its owner`), so the data set keeps 10 posts per
/// user for the operations after it. ns per move.
pub struct MoveChild(Vec<Vec<(usize, usize)>>);

impl MoveChild {
    /// `pairs` round trips per repetition; the target is never the post's own user.
    pub fn new(picks: &mut Picks, users: usize, pairs: usize, reps: usize) -> Self {
        let mut batch = || {
            let posts = picks.indexes(pairs, users * POSTS_PER_USER);
            let others = picks.indexes(pairs, users - 1);
            let trip = |(p, o): (usize, usize)| {
                let owner = p / POSTS_PER_USER;
                let other = if o >= owner { o + 1 } else { o };
                [(p, other), (p, owner)]
            };
            posts.into_iter().zip(others).flat_map(trip).collect()
        };
        MoveChild((0..reps).map(|_| batch()).collect())
    }
}

/// Checks that one move really moves: the target gains the post, the owner loses it.
fn check_one_move<S: Subject>(sys: &mut Loaded<S>, post: usize, to: usize) {
    let owner = post / POSTS_PER_USER;
    let (p, o, t) = (sys.ids.posts[post], sys.ids.users[owner], sys.ids.users[to]);
    sys.store.move_posts(&[(p, t)]);
    let got = (sys.store.o2m_keys(&[o]), sys.store.o2m_keys(&[t]));
    assert_eq!(got, (POSTS_PER_USER - 1, POSTS_PER_USER + 1), "{}: move", S::NAME);
    sys.store.move_posts(&[(p, o)]);
}

impl Op for MoveChild {
    fn name(&self) -> &'static str {
        "move_child"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let batch = &self.0[rep];
        check_one_move(sys, batch[0].0, batch[0].1);
        let moves: Vec<(S::Post, S::User)> = batch
            .iter()
            .map(|&(p, u)| (sys.ids.posts[p], sys.ids.users[u]))
            .collect();
        let before = sys.store.counts();
        let (ns, ()) = time_per_op(moves.len(), || sys.store.move_posts(&moves));
        assert_eq!(
            sys.store.counts(),
            before,
            "{}: moves changed a table size",
            S::NAME
        );
        let owners: Vec<S::User> = batch
            .iter()
            .map(|&(p, _)| sys.ids.users[p / POSTS_PER_USER])
            .collect();
        let posts = sys.store.o2m_keys(&owners);
        assert_eq!(
            posts,
            owners.len() * POSTS_PER_USER,
            "{}: posts back home",
            S::NAME
        );
        Some((ns, moves.len()))
    }
}

/// `cascade_delete`: delete a user with its profile, 10 posts and 5 memberships (17 rows,
/// by `ON DELETE CASCADE`). Each repetition deletes different users; the table sizes are
/// checked afterwards. ns per deleted user. Runs last: it shrinks the data set.
pub struct CascadeDelete(Vec<Vec<usize>>);

impl CascadeDelete {
    pub fn new(picks: &mut Picks, users: usize, per_rep: usize, reps: usize) -> Self {
        let order = picks.permutation(users);
        CascadeDelete(order.chunks(per_rep).take(reps).map(<[usize]>::to_vec).collect())
    }
}

impl Op for CascadeDelete {
    fn name(&self) -> &'static str {
        "cascade_delete"
    }
    fn run<S: Subject>(&mut self, sys: &mut Loaded<S>, rep: usize) -> Option<(f64, usize)> {
        let users = keys(&sys.ids.users, &self.0[rep]);
        let before = sys.store.counts();
        let (ns, deleted) = time_per_op(users.len(), || sys.store.delete_users(&users));
        let k = users.len();
        let [u, pr, po, g, m] = before;
        let expected = [u - k, pr - k, po - k * POSTS_PER_USER, g, m - k * GROUPS_PER_USER];
        assert_eq!(sys.store.counts(), expected, "{}: counts after cascades", S::NAME);
        assert_eq!(deleted, k, "{}: users deleted", S::NAME);
        Some((ns, deleted))
    }
}
