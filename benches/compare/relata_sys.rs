//! relata under test: the public API only, used the way an application would use it.
//!
//! relata's `insert` takes owned values, so the bulk load and the unique-violation batch move
//! prepared `String`s in (allocated before the timer); relata copies them into its text heap
//! and frees them, and that free is inside the timed loop.
//!
//! Traversals read through a [`relata::Records`] view taken before the loop, as relata's docs
//! tell a loop over many records of one type to do: the table is found once per batch.
//!
//! Fixture reset undoes relata's journal back to a `mark`, whichever SQLite restore it is
//! compared with.
//!
//! A post moves to another user through `set_parent(Post::AUTHOR, post, Some(user))`, the
//! write relata's docs give for re-parenting (`post.author = u`): it checks the post and the
//! new author are live, journals the old row and moves the post between the two children
//! lists, the work of the baseline's `move_post` and of SQLite's
//! `UPDATE posts SET user_id = ?`. `update(post, |p| p.author = to)` does the same and
//! also copies the post's title and content out to an owned `Post` and back.

use std::hint::black_box;
use std::mem::take;

use relata::{Error, Key, Store};

use crate::data::{Bundle, UserRow};
use crate::schema::{self, Group, Post, Profile, User, UserGroup};
use crate::subject::{read_text, Counts, Ids, Restore, Subject};

impl Subject for Store {
    const NAME: &'static str = "relata";
    type User = Key<User>;
    type Post = Key<Post>;
    type Group = Key<Group>;
    type Snapshot = Vec<u8>;

    fn open() -> Store {
        schema::store()
    }

    fn insert_groups(&mut self, names: &mut [String]) -> Vec<Key<Group>> {
        names
            .iter_mut()
            .map(|name| self.insert(Group { name: take(name) }).expect("insert group"))
            .collect()
    }

    fn insert_bundle(&mut self, b: &mut Bundle, groups: &[Key<Group>], ids: &mut Ids<Store>) {
        let user = self.insert(User {
            username: take(&mut b.user.username),
            email: take(&mut b.user.email),
        });
        let user = user.expect("insert user");
        ids.users.push(user);
        let bio = take(&mut b.bio);
        self.insert(Profile { bio, user }).expect("insert profile");
        for p in &mut b.posts {
            let (title, content) = (take(&mut p.title), take(&mut p.content));
            let post = self.insert(Post {
                title,
                content,
                author: user,
            });
            ids.posts.push(post.expect("insert post"));
        }
        for (&g, &joined_on) in b.groups.iter().zip(&b.joined_on) {
            let group = groups[g as usize];
            self.insert(UserGroup {
                user,
                group,
                joined_on,
            })
            .expect("insert membership");
        }
    }

    fn counts(&mut self) -> Counts {
        [
            self.count::<User>(),
            self.count::<Profile>(),
            self.count::<Post>(),
            self.count::<Group>(),
            self.count::<UserGroup>(),
        ]
    }

    fn lookup_unique(&mut self, names: &[String]) -> usize {
        // The table found once, before the loop, as SQLite's statement is prepared once.
        let users = self.records::<User>();
        let mut found = 0;
        for name in names {
            found += black_box(users.find_unique(User::BY_USERNAME, name.as_str())).is_some() as usize;
        }
        found
    }

    fn o2m_keys(&mut self, users: &[Key<User>]) -> usize {
        let posts = self.records::<Post>();
        let mut n = 0;
        for &u in users {
            for post in posts.children(Post::AUTHOR, u) {
                black_box(post);
                n += 1;
            }
        }
        n
    }

    fn o2m_fields(&mut self, users: &[Key<User>]) -> usize {
        let posts = self.records::<Post>();
        let mut n = 0;
        for &u in users {
            for post in posts.children(Post::AUTHOR, u) {
                if let Some(p) = posts.get(post) {
                    read_text(p.title.as_str());
                    n += 1;
                }
            }
        }
        n
    }

    fn m2m_forward(&mut self, users: &[Key<User>]) -> usize {
        let members = self.records::<UserGroup>();
        let mut n = 0;
        for &u in users {
            for m in members.children(UserGroup::USER, u) {
                if let Some(m) = members.get(m) {
                    black_box(m.group);
                    n += 1;
                }
            }
        }
        n
    }

    fn m2m_reverse(&mut self, groups: &[Key<Group>]) -> usize {
        let members = self.records::<UserGroup>();
        let mut n = 0;
        for &g in groups {
            for m in members.children(UserGroup::GROUP, g) {
                if let Some(m) = members.get(m) {
                    black_box(m.user);
                    n += 1;
                }
            }
        }
        n
    }

    fn insert_rejected(&mut self, rows: &mut [UserRow]) -> usize {
        let mut rejected = 0;
        for row in rows {
            let user = User {
                username: take(&mut row.username),
                email: take(&mut row.email),
            };
            let result = black_box(self.insert(user));
            rejected += matches!(result, Err(Error::UniqueViolation { .. })) as usize;
        }
        rejected
    }

    fn move_posts(&mut self, moves: &[(Key<Post>, Key<User>)]) {
        for &(post, to) in moves {
            self.set_parent(Post::AUTHOR, post, Some(to)).expect("move post");
        }
    }

    fn delete_users(&mut self, users: &[Key<User>]) -> usize {
        for &u in users {
            black_box(self.delete(u).expect("delete user"));
        }
        users.len()
    }

    fn fork(&mut self) -> Store {
        Store::fork(self)
    }

    fn snapshot_save(&mut self) -> Option<Vec<u8>> {
        Some(self.to_snapshot().expect("save a snapshot"))
    }

    fn snapshot_load(snapshot: &Vec<u8>) -> Option<Store> {
        Some(Store::from_snapshot(schema::store().schema().clone(), snapshot).expect("load a snapshot"))
    }

    fn snapshot_len(snapshot: &Vec<u8>) -> usize {
        snapshot.len()
    }

    fn fixture_mark(&mut self, _how: Restore) -> bool {
        let mark = self.mark().expect("mark the fixture");
        MARK.with(|m| *m.borrow_mut() = Some(mark));
        true
    }

    fn fixture_reset(&mut self) {
        MARK.with(|m| {
            if let Some(mark) = m.borrow().as_ref() {
                self.reset(mark).expect("reset to the fixture");
            }
        });
    }

    fn fixture_release(&mut self) {
        if let Some(mark) = MARK.with(|m| m.borrow_mut().take()) {
            self.release_mark(&mark).expect("release the fixture mark");
        }
    }
}

thread_local! {
    /// The fixture mark of the store being measured (the harness measures one at a time).
    static MARK: std::cell::RefCell<Option<relata::Mark>> = const { std::cell::RefCell::new(None) };
}
